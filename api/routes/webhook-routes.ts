import type { FastifyInstance } from 'fastify';
import { EVENT_TYPES } from '../../model/event-log.js';
import type { ServiceContext } from '../../services/service-context.js';
import {
  addWebhook,
  listWebhookDeliveries,
  listWebhooks,
  removeWebhook,
  type WebhookRequest,
} from '../../services/webhooks.js';
import { actorOf } from './actor.js';

/** /webhooks: subscriptions (admin to add or remove, viewer to read) and their deliveries. Secrets never leave. */
export function webhookRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post<{ Body: WebhookRequest }>(
    '/webhooks',
    {
      config: { role: 'admin' },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['url', 'events'],
          properties: {
            url: { type: 'string', minLength: 1, maxLength: 2048 },
            events: { type: 'array', minItems: 1, items: { type: 'string', enum: [...EVENT_TYPES] } },
            object: { type: 'string', minLength: 1, description: 'a dSource or VDB (id or name): only its events' },
            secret: {
              type: 'string',
              minLength: 16,
              maxLength: 1024,
              description: 'the HMAC-SHA256 signing key; one is made and returned once when absent',
            },
          },
        },
      },
    },
    async (request, reply) => reply.status(201).send(await addWebhook(ctx, request.body, actorOf(request))),
  );
  app.get('/webhooks', async () => ({ webhooks: await listWebhooks(ctx) }));
  app.delete<{ Params: { id: string } }>('/webhooks/:id', { config: { role: 'admin' } }, async (request) =>
    removeWebhook(ctx, request.params.id),
  );
  app.get<{ Params: { id: string }; Querystring: { limit?: number } }>(
    '/webhooks/:id/deliveries',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
      },
    },
    async (request) => listWebhookDeliveries(ctx, request.params.id, request.query.limit),
  );
}
