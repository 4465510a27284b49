import type { FastifyInstance } from 'fastify';
import type { EngineMetrics } from './metrics.js';

/** Options of {@link metricsRoute}. */
export interface MetricsRouteOptions {
  /** Serve /metrics without a token (for a scraper inside a trusted network). @defaultValue false: a viewer token */
  public?: boolean;
}

/** GET /metrics: the Prometheus exposition of {@link EngineMetrics}. */
export function metricsRoute(app: FastifyInstance, metrics: EngineMetrics, options: MetricsRouteOptions = {}): void {
  app.get('/metrics', { config: { public: options.public ?? false }, schema: { tags: ['metrics'], produces: ['text/plain'] } }, async (_request, reply) => {
    const { contentType, text } = await metrics.scrape();
    return reply.type(contentType).send(text);
  });
}
