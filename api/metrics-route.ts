import type { FastifyInstance } from 'fastify';
import type { EngineMetrics } from './metrics.js';

/** GET /metrics (a viewer token, like every other read): the Prometheus exposition of {@link EngineMetrics}. */
export function metricsRoute(app: FastifyInstance, metrics: EngineMetrics): void {
  app.get('/metrics', { schema: { tags: ['metrics'], produces: ['text/plain'] } }, async (_request, reply) => {
    const { contentType, text } = await metrics.scrape();
    return reply.type(contentType).send(text);
  });
}
