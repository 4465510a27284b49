import type { FastifyInstance } from 'fastify';
import { listPlugins, uploadPlugin } from '../../services/plugins.js';
import type { ServiceContext } from '../../services/service-context.js';
import { actorOf } from './actor.js';

/** The top-level fields of a built artifact (`dvx plugin build`). */
const ARTIFACT_FIELDS = ['formatVersion', 'manifest', 'schemas', 'code', 'codeSha256', 'builtAt'] as const;

export function pluginRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post(
    '/plugins',
    {
      config: { role: 'admin' },
      // Only the artifact's own fields: checkArtifact checks what they hold, with every problem named.
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(ARTIFACT_FIELDS.map((field) => [field, {}])),
        },
      },
    },
    async (request, reply) => reply.status(201).send(await uploadPlugin(ctx, request.body, actorOf(request))),
  );
  app.get('/plugins', async () => ({ plugins: await listPlugins(ctx) }));
}
