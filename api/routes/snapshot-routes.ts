import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../../services/service-context.js';
import { deleteSnapshot, listSnapshots } from '../../services/snapshots.js';
import { listTimeflows } from '../../services/timeflows.js';

export function snapshotRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get<{ Querystring: { of?: string } }>(
    '/snapshots',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { of: { type: 'string', minLength: 1 } },
        },
      },
    },
    async (request) => ({ snapshots: await listSnapshots(ctx, request.query.of ? { owner: request.query.of } : {}) }),
  );
  app.get<{ Querystring: { of: string } }>(
    '/timeflows',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['of'],
          properties: { of: { type: 'string', minLength: 1, description: 'a dSource or VDB (id or name)' } },
        },
      },
    },
    async (request) => ({ timeflows: await listTimeflows(ctx, request.query.of) }),
  );
  app.delete<{ Params: { id: string } }>('/snapshots/:id', async (request) => deleteSnapshot(ctx, request.params.id));
}
