import type { FastifyInstance } from 'fastify';
import type { EventLog } from '../../model/event-log.js';

/** GET /events (viewer): run and object events after a stream position, oldest first, each with its stream id. */
export function eventRoutes(app: FastifyInstance, events: EventLog): void {
  app.get<{ Querystring: { after?: string; limit?: number } }>(
    '/events',
    {
      schema: {
        description:
          'Events of the dvx:events stream after a position: give the last id you read as `after` to read on. ' +
          'Without `after`, from the oldest the stream keeps.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: { type: 'string', pattern: '^[0-9]+-[0-9]+$', description: 'a stream id (`<ms>-<seq>`)' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
      },
    },
    async (request) => {
      const list = await events.read(request.query);
      return { events: list, last: list.at(-1)?.id ?? request.query.after ?? null };
    },
  );
}
