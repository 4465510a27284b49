import type { FastifyInstance } from 'fastify';
import {
  addEnvironment,
  listEnvironments,
  refreshEnvironment,
  removeEnvironment,
  showEnvironment,
  type AddEnvironmentRequest,
} from '../../services/environments.js';
import type { ServiceContext } from '../../services/service-context.js';
import { actorOf, NAME_SCHEMA, NO_FIELDS, type RefParams } from './actor.js';

export function environmentRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post<{ Body: AddEnvironmentRequest }>(
    '/environments',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'host', 'user'],
          properties: {
            name: NAME_SCHEMA,
            host: { type: 'string', minLength: 1 },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            user: { type: 'string', minLength: 1 },
            privateKey: { type: 'string', minLength: 1 },
            passphrase: { type: 'string' },
            password: { type: 'string', minLength: 1 },
            hostKeyFingerprint: { type: 'string', pattern: '^SHA256:' },
            scratchPath: { type: 'string', pattern: '^/' },
            transport: { type: 'string', enum: ['bind', 'sshfs'] },
          },
        },
      },
    },
    async (request, reply) => reply.status(202).send(await addEnvironment(ctx, request.body, actorOf(request))),
  );
  app.get('/environments', async () => ({ environments: await listEnvironments(ctx) }));
  app.get<RefParams>('/environments/:ref', async (request) => ({
    environment: await showEnvironment(ctx, request.params.ref),
  }));
  app.post<RefParams>('/environments/:ref/refresh', NO_FIELDS, async (request, reply) =>
    reply.status(202).send(await refreshEnvironment(ctx, request.params.ref, actorOf(request))),
  );
  app.delete<RefParams>('/environments/:ref', async (request) => removeEnvironment(ctx, request.params.ref));
}
