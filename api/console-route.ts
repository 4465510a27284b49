import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where the console's built files are served from (hashed names: they are cached for good). */
export const CONSOLE_ASSETS_PREFIX = '/console-assets/';

/** What the page at `/` says when the console was not built. */
const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>dvx</title>
<p>The dvx web console is not built. Run <code>npm run build</code> in the dvx checkout, then reload this page.
The REST API is served as usual (see <a href="/docs">/docs</a>).</p></html>`;

/**
 * The web console (console/, built by `npm run build` into dist/console): its page at `/` and its files under
 * {@link CONSOLE_ASSETS_PREFIX}. Both are public: the page holds no data, and signs in with an API token it sends as a
 * bearer header to the API, whose routes it does not shadow (its own routes live in the page's URL fragment).
 */
export function consoleRoutes(app: FastifyInstance, dir: string): void {
  const built = existsSync(join(dir, 'index.html'));
  app.register(async (scope) => {
    // Public like /health: the authentication hook lets these through.
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    if (built) {
      await scope.register(fastifyStatic, {
        root: dir,
        prefix: CONSOLE_ASSETS_PREFIX,
        index: false,
        // Only the hashed files are cached: index.html names them and is sent fresh from `/`.
        setHeaders: (reply, path) => {
          if (!path.endsWith('.html')) void reply.header('cache-control', 'public, max-age=31536000, immutable');
        },
        schemaHide: true,
      });
    }
    scope.get('/', { schema: { hide: true } }, async (_request, reply) => {
      if (!built) return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT);
      return reply
        .header('cache-control', 'no-cache')
        .header(
          'content-security-policy',
          "default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'",
        )
        .sendFile('index.html');
    });
  });
}
