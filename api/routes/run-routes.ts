import type { FastifyInstance } from 'fastify';
import { cancelRun, listRuns, showRun } from '../../services/runs.js';
import type { ServiceContext } from '../../services/service-context.js';
import { NO_FIELDS } from './actor.js';

const runStatus = { type: 'string', enum: ['running', 'succeeded', 'failed', 'cancelled'] } as const;

export function runRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get<{
    Querystring: {
      objectType?: string;
      objectId?: string;
      kind?: string;
      status?: 'running' | 'succeeded' | 'failed' | 'cancelled';
      limit?: number;
      offset?: number;
    };
  }>(
    '/runs',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            objectType: { type: 'string' },
            objectId: { type: 'string' },
            kind: { type: 'string' },
            status: runStatus,
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
            offset: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
    async (request) => ({ runs: await listRuns(ctx, request.query) }),
  );
  app.get<{ Params: { id: string } }>('/runs/:id', async (request) => ({ run: await showRun(ctx, request.params.id) }));
  app.post<{ Params: { id: string } }>('/runs/:id/cancel', NO_FIELDS, async (request, reply) => {
    const run = await cancelRun(ctx, request.params.id, { name: request.caller?.name ?? 'unknown' });
    return reply.status(202).send({ run });
  });
}
