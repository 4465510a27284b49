import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger.js';
import { AuditLog } from '../model/audit-log.js';
import { EventLog } from '../model/event-log.js';
import type { TokenStore } from '../model/token-store.js';
import { adminQueues, engineQueues } from './admin-queues.js';
import { authenticate } from './auth.js';
import { consoleRoutes } from './console-route.js';
import { defaultHealthInputs, healthReport, isTokenHolder, withoutDetails, type HealthInputs } from './health.js';
import { errorHandler } from './http-error.js';
import { EngineMetrics } from './metrics.js';
import { metricsRoute } from './metrics-route.js';
import { openApi } from './openapi.js';
import { auditRoutes, recordMutations } from './routes/audit-routes.js';
import { eventRoutes } from './routes/event-routes.js';
import { webhookRoutes } from './routes/webhook-routes.js';
import { bookmarkRoutes } from './routes/bookmark-routes.js';
import { dsourceRoutes } from './routes/dsource-routes.js';
import { environmentRoutes } from './routes/environment-routes.js';
import { hookRoutes } from './routes/hook-routes.js';
import { pluginRoutes } from './routes/plugin-routes.js';
import { policyRoutes } from './routes/policy-routes.js';
import { runRoutes } from './routes/run-routes.js';
import { snapshotRoutes } from './routes/snapshot-routes.js';
import { sourceConfigRoutes } from './routes/sourceconfig-routes.js';
import { tokenRoutes } from './routes/token-routes.js';
import { vdbRoutes } from './routes/vdb-routes.js';
import type { ServiceContext } from '../services/service-context.js';

/** Options of {@link buildServer}. */
export interface ServerOptions {
  context: ServiceContext;
  tokens: TokenStore;
  logger: Logger;
  /** The dvx version the OpenAPI document states (the caller reads it: the package is known above api/). */
  version: string;
  /** More route registrations (each lifecycle area adds its own). */
  routes?: ((app: FastifyInstance, ctx: ServiceContext) => void)[];
  /** What /health checks and when requests are refused with 503. @defaultValue the context's Redis client and storage */
  health?: HealthInputs;
  /**
   * The client the audit log goes through. Give one that fails fast while Redis is down (the `producer` role): the
   * audit line of a request refused then is skipped with a warning instead of holding its answer until Redis is back.
   * @defaultValue the context's model client
   */
  auditRedis?: Redis;
  /**
   * The built web console (dist/console of the package; the caller knows where the package is), served at `/`.
   * @defaultValue none: `/` answers 404
   */
  consoleDir?: string;
}

/**
 * The REST API: every route but /health, /openapi.json and /docs needs a token; errors have one JSON shape; every
 * mutating request is audited; /metrics for Prometheus; bull-board at /admin/queues.
 */
export function buildServer(options: ServerOptions): FastifyInstance {
  // Typed as fastify's base logger so the instance is a plain FastifyInstance (routes are registered on that type).
  const loggerInstance: FastifyBaseLogger = options.logger.child({ component: 'api' });
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024 * 1024,
    // Fastify's default strips fields a schema does not declare; dvx refuses them instead, naming each.
    ajv: { customOptions: { removeAdditional: false } },
  });
  app.setErrorHandler(errorHandler(options.logger));
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `No route ${request.method} ${request.url}.`,
        retryable: false,
        name: 'DvxError',
      },
    });
  });
  const { context } = options;
  const health = options.health ?? defaultHealthInputs(context.model.redis, context.space);
  // Before authentication (which reads Redis): while Redis is down a request gets a 503 at once, never a hang, and
  // nothing of it is done.
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public) return;
    const unavailable = health.unavailable();
    if (unavailable) throw unavailable;
  });
  app.addHook('onRequest', authenticate(options.tokens));
  const audit = new AuditLog(options.auditRedis ?? context.model.redis);
  recordMutations(app, audit, options.logger);
  openApi(app, options.version);
  // Handles on every engine queue, shown at /admin/queues and measured at /metrics.
  const queues = engineQueues(context.model.redis, options.logger);
  const metrics = new EngineMetrics({
    driver: context.driver,
    model: context.model,
    space: context.space,
    queues,
    logger: options.logger,
  });
  app.addHook('onClose', async () => {
    metrics.close();
    await Promise.all(queues.map((queue) => queue.close()));
  });
  // Routes go in a plugin so that they are added after @fastify/swagger has loaded (it learns routes as they come).
  app.register(async (api) => {
    api.get('/health', { config: { public: true } }, async (request, reply) => {
      const report = await healthReport(health);
      // Anyone may ask whether the engine is up; what it runs on (paths, pids, addresses) is for its token holders.
      const shown = (await isTokenHolder(request, options.tokens, health)) ? report : withoutDetails(report);
      return reply.status(report.status === 'unavailable' ? 503 : 200).send(shown);
    });
    for (const register of [
      runRoutes,
      environmentRoutes,
      pluginRoutes,
      sourceConfigRoutes,
      dsourceRoutes,
      vdbRoutes,
      snapshotRoutes,
      hookRoutes,
      policyRoutes,
      bookmarkRoutes,
      webhookRoutes,
    ])
      register(api, context);
    tokenRoutes(api, options.tokens);
    auditRoutes(api, audit);
    eventRoutes(api, new EventLog(context.model.redis));
    metricsRoute(api, metrics);
    for (const register of options.routes ?? []) register(api, context);
  });
  adminQueues(app, { ctx: context, queues, logger: options.logger });
  if (options.consoleDir) consoleRoutes(app, options.consoleDir);
  return app;
}
