import type { FastifyInstance } from 'fastify';
import { HOOK_EVENTS } from '../../machines/lifecycle/hook-steps.js';
import { listHooks, removeHook, setHook } from '../../services/hooks.js';
import type { ServiceContext } from '../../services/service-context.js';

export function hookRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get<{ Querystring: { of: string } }>(
    '/hooks',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['of'],
          properties: { of: { type: 'string', minLength: 1 } },
        },
      },
    },
    async (request) => ({ hooks: await listHooks(ctx, request.query.of) }),
  );
  app.put<{ Params: { ref: string; event: string }; Body: { script: string } }>(
    '/hooks/:ref/:event',
    {
      schema: {
        params: {
          type: 'object',
          properties: { ref: { type: 'string' }, event: { type: 'string', enum: [...HOOK_EVENTS] } },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['script'],
          properties: { script: { type: 'string', maxLength: 262144 } },
        },
      },
    },
    async (request) => ({ hook: await setHook(ctx, request.params.ref, request.params.event, request.body.script) }),
  );
  app.delete<{ Params: { ref: string; event: string } }>('/hooks/:ref/:event', async (request) =>
    removeHook(ctx, request.params.ref, request.params.event),
  );
}
