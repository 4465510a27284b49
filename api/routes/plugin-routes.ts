import type { FastifyInstance } from 'fastify';
import { listPlugins, uploadPlugin } from '../../services/plugins.js';
import type { ServiceContext } from '../../services/service-context.js';
import { actorOf } from './actor.js';

export function pluginRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post('/plugins', { config: { role: 'admin' } }, async (request, reply) =>
    reply.status(201).send(await uploadPlugin(ctx, request.body, actorOf(request))),
  );
  app.get('/plugins', async () => ({ plugins: await listPlugins(ctx) }));
}
