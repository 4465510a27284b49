import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { neededRole } from './auth.js';

/** Where the OpenAPI document and its browsable docs are served (both public: they describe the API, they hold no data). */
const OPENAPI_PATH = '/openapi.json';
const DOCS_PATH = '/docs';

type RouteSchema = NonNullable<RouteOptions['schema']> & {
  tags?: string[];
  security?: unknown[];
  description?: string;
  hide?: boolean;
};

/**
 * Fills in what the OpenAPI document needs of a route that does not say it: a tag (the first path segment, e.g.
 * `vdbs`), a schema of its path parameters (strings), the bearer security requirement and the role it needs.
 */
function describeRoute(route: RouteOptions): void {
  const schema: RouteSchema = { ...(route.schema as RouteSchema | undefined) };
  if (schema.hide) return;
  const path = route.url;
  schema.tags ??= [path.split('/').find((segment) => segment && !segment.startsWith(':')) ?? 'engine'];
  const names = [...path.matchAll(/:([A-Za-z0-9_]+)/g)].flatMap((match) => match[1] ?? []);
  if (names.length > 0 && !schema.params) {
    schema.params = {
      type: 'object',
      required: names,
      properties: Object.fromEntries(names.map((name) => [name, { type: 'string' }])),
    };
  }
  const config = route.config ?? {};
  if (!config.public) {
    schema.security ??= [{ bearerAuth: [] }];
    const method = (Array.isArray(route.method) ? route.method[0] : route.method) ?? 'GET';
    schema.description ??= `Needs a token with the ${neededRole(method, config)} role (or higher).`;
  }
  route.schema = schema;
}

/**
 * The OpenAPI 3 document of every route at {@link OPENAPI_PATH} (@fastify/swagger, built from the routes' schemas)
 * and Swagger UI at {@link DOCS_PATH}. Call before any route is added: both learn routes as they are added.
 */
export function openApi(app: FastifyInstance, version: string): void {
  app.addHook('onRoute', describeRoute);
  app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'dvx engine API',
        version,
        description:
          'Every route but /health, /openapi.json and /docs needs `Authorization: Bearer <token>`. Roles: viewer (read), operator (run lifecycles), admin (everything, tokens, audit, plugins).',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
  });
  app.register(async (docs) => {
    // Swagger UI is loaded by a browser, which sends no bearer token: the docs routes are public.
    docs.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object), public: true };
    });
    docs.get(OPENAPI_PATH, { schema: { hide: true } }, async () => docs.swagger());
    await docs.register(swaggerUi, { routePrefix: DOCS_PATH });
  });
}
