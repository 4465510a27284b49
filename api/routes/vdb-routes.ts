import type { FastifyInstance } from 'fastify';
import { HOOK_EVENTS } from '../../machines/lifecycle/hook-steps.js';
import type { ServiceContext } from '../../services/service-context.js';
import { listSnapshots } from '../../services/snapshots.js';
import {
  deleteVdb,
  listVdbs,
  provisionVdb,
  refreshVdb,
  rewindVdb,
  showVdb,
  vdbAction,
  type ProvisionRequest,
} from '../../services/vdbs.js';
import { actorOf, NAME_SCHEMA, NO_FIELDS, PARAMETERS_SCHEMA, type RefParams } from './actor.js';

export function vdbRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post<{ Body: ProvisionRequest }>(
    '/vdbs',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'source', 'environment'],
          properties: {
            name: NAME_SCHEMA,
            source: { type: 'string', minLength: 1 },
            snapshot: { type: 'string', minLength: 1 },
            environment: { type: 'string', minLength: 1 },
            repository: { type: 'string', minLength: 1 },
            parameters: PARAMETERS_SCHEMA,
            hooks: {
              type: 'object',
              propertyNames: { enum: HOOK_EVENTS.filter((event) => event !== 'preSync' && event !== 'postSync') },
              additionalProperties: { type: 'string', minLength: 1 },
            },
          },
        },
      },
    },
    async (request, reply) => reply.status(202).send(await provisionVdb(ctx, request.body, actorOf(request))),
  );
  app.get<{ Querystring: { limit?: number; offset?: number } }>(
    '/vdbs',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
            offset: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
    async (request) => ({ vdbs: await listVdbs(ctx, request.query) }),
  );
  app.get<RefParams>('/vdbs/:ref', async (request) => ({ vdb: await showVdb(ctx, request.params.ref) }));
  app.get<RefParams>('/vdbs/:ref/snapshots', async (request) => ({
    snapshots: await listSnapshots(ctx, { owner: (await showVdb(ctx, request.params.ref)).id }),
  }));
  for (const action of ['start', 'stop', 'enable', 'disable', 'snapshot'] as const) {
    app.post<RefParams>(`/vdbs/:ref/${action}`, NO_FIELDS, async (request, reply) =>
      reply.status(202).send(await vdbAction(ctx, request.params.ref, action, actorOf(request))),
    );
  }
  app.post<RefParams & { Body: { snapshot: string } }>(
    '/vdbs/:ref/rewind',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['snapshot'],
          properties: { snapshot: { type: 'string', minLength: 1 } },
        },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await rewindVdb(ctx, request.params.ref, request.body, actorOf(request))),
  );
  app.post<RefParams & { Body: { snapshot?: string } | undefined }>(
    '/vdbs/:ref/refresh',
    {
      schema: {
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { snapshot: { type: 'string', minLength: 1 } },
        },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await refreshVdb(ctx, request.params.ref, request.body ?? {}, actorOf(request))),
  );
  app.delete<RefParams>('/vdbs/:ref', async (request, reply) =>
    reply.status(202).send(await deleteVdb(ctx, request.params.ref, actorOf(request))),
  );
}
