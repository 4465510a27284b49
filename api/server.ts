import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../log/logger.js';
import type { TokenStore } from '../model/token-store.js';
import { authenticate } from './auth.js';
import { errorHandler } from './http-error.js';
import { bookmarkRoutes } from './routes/bookmark-routes.js';
import { dsourceRoutes } from './routes/dsource-routes.js';
import { environmentRoutes } from './routes/environment-routes.js';
import { hookRoutes } from './routes/hook-routes.js';
import { pluginRoutes } from './routes/plugin-routes.js';
import { policyRoutes } from './routes/policy-routes.js';
import { runRoutes } from './routes/run-routes.js';
import { snapshotRoutes } from './routes/snapshot-routes.js';
import { sourceConfigRoutes } from './routes/sourceconfig-routes.js';
import { vdbRoutes } from './routes/vdb-routes.js';
import type { ServiceContext } from './services/service-context.js';

/** Options of {@link buildServer}. */
export interface ServerOptions {
  context: ServiceContext;
  tokens: TokenStore;
  logger: Logger;
  /** More route registrations (each lifecycle area adds its own). */
  routes?: ((app: FastifyInstance, ctx: ServiceContext) => void)[];
}

/** The REST API: every route but /health needs a token; errors have one JSON shape. */
export function buildServer(options: ServerOptions): FastifyInstance {
  const app = Fastify({ loggerInstance: options.logger.child({ component: 'api' }) as unknown as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 64 * 1024 * 1024 });
  app.setErrorHandler(errorHandler(options.logger));
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'NOT_FOUND', message: `No route ${request.method} ${request.url}.`, retryable: false, name: 'DvxError' } });
  });
  app.addHook('onRequest', authenticate(options.tokens));
  app.get('/health', { config: { public: true } }, async () => ({ status: 'ok' }));
  for (const register of [runRoutes, environmentRoutes, pluginRoutes, sourceConfigRoutes, dsourceRoutes, vdbRoutes, snapshotRoutes, hookRoutes, policyRoutes, bookmarkRoutes]) register(app, options.context);
  for (const register of options.routes ?? []) register(app, options.context);
  return app;
}
