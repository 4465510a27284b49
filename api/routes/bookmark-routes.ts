import type { FastifyInstance } from 'fastify';
import {
  createBookmark,
  deleteBookmark,
  listBookmarks,
  showBookmark,
  type CreateBookmarkRequest,
} from '../../services/bookmarks.js';
import { findDatasetObject } from '../../services/dataset-object.js';
import type { ServiceContext } from '../../services/service-context.js';
import { actorOf, NAME_SCHEMA, type RefParams } from './actor.js';

/** /bookmarks: named snapshots with an optional expiry. */
export function bookmarkRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post<{ Body: CreateBookmarkRequest }>(
    '/bookmarks',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'snapshot'],
          properties: {
            name: NAME_SCHEMA,
            snapshot: { type: 'string', minLength: 1 },
            expires: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send({ bookmark: await createBookmark(ctx, request.body, actorOf(request)) }),
  );
  app.get<{ Querystring: { of?: string } }>(
    '/bookmarks',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { of: { type: 'string', minLength: 1 } },
        },
      },
    },
    async (request) => ({
      bookmarks: await listBookmarks(
        ctx,
        request.query.of ? { ownerId: (await findDatasetObject(ctx, request.query.of)).id } : {},
      ),
    }),
  );
  app.get<RefParams>('/bookmarks/:ref', async (request) => ({ bookmark: await showBookmark(ctx, request.params.ref) }));
  app.delete<RefParams>('/bookmarks/:ref', async (request) => deleteBookmark(ctx, request.params.ref));
}
