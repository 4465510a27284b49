import type { FastifyInstance } from 'fastify';
import {
  deleteDsource,
  linkDsource,
  listDsources,
  setDsourceEnabled,
  showDsource,
  syncDsource,
  type LinkRequest,
} from '../../services/dsources.js';
import type { ServiceContext } from '../../services/service-context.js';
import { listSnapshots } from '../../services/snapshots.js';
import { actorOf, NAME_SCHEMA, NO_FIELDS, PARAMETERS_SCHEMA, type RefParams } from './actor.js';

export function dsourceRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post<{ Body: LinkRequest }>(
    '/dsources',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'sourceConfig'],
          properties: {
            name: NAME_SCHEMA,
            sourceConfig: { type: 'string', minLength: 1 },
            stagingEnvironment: { type: 'string', minLength: 1 },
            parameters: PARAMETERS_SCHEMA,
          },
        },
      },
    },
    async (request, reply) => reply.status(202).send(await linkDsource(ctx, request.body, actorOf(request))),
  );
  app.get('/dsources', async () => ({ dsources: await listDsources(ctx) }));
  app.get<RefParams>('/dsources/:ref', async (request) => ({ dsource: await showDsource(ctx, request.params.ref) }));
  app.get<RefParams>('/dsources/:ref/snapshots', async (request) => ({
    snapshots: await listSnapshots(ctx, { owner: (await showDsource(ctx, request.params.ref)).id }),
  }));
  app.post<RefParams & { Body: { resync?: boolean } | undefined }>(
    '/dsources/:ref/sync',
    {
      schema: {
        body: { type: ['object', 'null'], additionalProperties: false, properties: { resync: { type: 'boolean' } } },
      },
    },
    async (request, reply) =>
      reply
        .status(202)
        .send(await syncDsource(ctx, request.params.ref, { resync: request.body?.resync ?? false }, actorOf(request))),
  );
  app.post<RefParams>('/dsources/:ref/enable', NO_FIELDS, async (request, reply) =>
    reply.status(202).send(await setDsourceEnabled(ctx, request.params.ref, true, actorOf(request))),
  );
  app.post<RefParams>('/dsources/:ref/disable', NO_FIELDS, async (request, reply) =>
    reply.status(202).send(await setDsourceEnabled(ctx, request.params.ref, false, actorOf(request))),
  );
  app.delete<RefParams>('/dsources/:ref', async (request, reply) =>
    reply.status(202).send(await deleteDsource(ctx, request.params.ref, actorOf(request))),
  );
}
