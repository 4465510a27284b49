import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../../services/service-context.js';
import { addSourceConfig, listRepositories, listSourceConfigs } from '../../services/sourceconfigs.js';
import { PARAMETERS_SCHEMA } from './actor.js';

export function sourceConfigRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get<{ Querystring: { environment?: string } }>(
    '/repositories',
    {
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { environment: { type: 'string' } } },
      },
    },
    async (request) => ({ repositories: await listRepositories(ctx, request.query) }),
  );
  app.get<{ Querystring: { environment?: string; repository?: string } }>(
    '/sourceconfigs',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { environment: { type: 'string' }, repository: { type: 'string' } },
        },
      },
    },
    async (request) => ({ sourceConfigs: await listSourceConfigs(ctx, request.query) }),
  );
  app.post<{ Body: { repository: string; parameters: Record<string, unknown> } }>(
    '/sourceconfigs',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['repository', 'parameters'],
          properties: { repository: { type: 'string', minLength: 1 }, parameters: PARAMETERS_SCHEMA },
        },
      },
    },
    async (request, reply) => reply.status(201).send({ sourceConfig: await addSourceConfig(ctx, request.body) }),
  );
}
