// Bad input is refused before anything starts: every route that takes a body refuses a field it does not know, and
// names refuse control characters and bidirectional overrides. A server of its own on a real engine's services, so
// that every route can be seen as it is added (as in operator-view.test.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../api/server.js';
import { startEngineRuntime, type EngineRuntime } from '../../cli/engine-runtime.js';
import { packageVersion } from '../../cli/package-info.js';
import type { SerializedError } from '../../errors/dvx-error.js';
import type { ValidationIssue } from '../../errors/validation-error.js';
import { silentLogger } from '../../log/logger.js';
import { TokenStore } from '../../model/token-store.js';
import { ReflinkBackend } from '../../storage/index.js';
import { makeArtifact } from '../fixtures/plugins/make-artifact.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { chainLifecycle, testHandlers } from '../workers/test-lifecycles.js';

let redis: TestRedis;
let dir: { path: string; remove(): Promise<void> };
let runtime: EngineRuntime;
let app: FastifyInstance;
const routes: RouteOptions[] = [];
let admin: string;

type Refusal = { error: SerializedError & { details?: { issues?: ValidationIssue[] } } };
type Schema = { type?: string | string[]; enum?: unknown[]; required?: string[]; properties?: Record<string, Schema> };

/** A value of the schema's type: enough to get past `required` so that the unknown field is what is refused. */
function valueOf(schema: Schema | undefined): unknown {
  if (schema?.enum) return schema.enum[0];
  const type = Array.isArray(schema?.type) ? schema.type[0] : schema?.type;
  if (type === 'object') return bodyOf(schema);
  if (type === 'array') return [];
  if (type === 'integer' || type === 'number') return 1;
  if (type === 'boolean') return false;
  return 'x';
}

function bodyOf(schema: Schema | undefined): Record<string, unknown> {
  return Object.fromEntries((schema?.required ?? []).map((field) => [field, valueOf(schema?.properties?.[field])]));
}

beforeAll(async () => {
  redis = await startRedisServer();
  dir = await makeTempDir('refused-input');
  runtime = await startEngineRuntime({
    dataDir: dir.path,
    redisUrl: redis.url,
    port: 0,
    logger: silentLogger,
    storage: new ReflinkBackend({ root: join(dir.path, 'pool') }),
    handlers: ({ redis: store }) => testHandlers(store),
    health: false,
    engine: { lifecycles: [chainLifecycle as never] },
  });
  admin = (await readFile(join(dir.path, 'admin.token'), 'utf8')).trim();
  app = buildServer({
    context: runtime.ctx,
    tokens: new TokenStore(runtime.ctx.model.redis),
    logger: silentLogger,
    version: packageVersion(),
  });
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  await app.ready();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await runtime?.stop(2_000);
  await redis?.remove();
  await dir?.remove();
});

const as = { authorization: 'Bearer ' };

describe('a request with a field the route does not know', () => {
  it('is refused with 400 naming the field, on every route of the API that takes a body', async () => {
    const taking = routes.flatMap((route) =>
      (Array.isArray(route.method) ? route.method : [route.method])
        .filter((method) => method === 'POST' || method === 'PUT' || method === 'PATCH')
        // bull-board's own API (admin only) is not dvx's.
        .filter(() => !route.url.startsWith('/admin/queues'))
        .map((method) => ({ method, route })),
    );
    const seen = taking.map(({ method, route }) => `${method} ${route.url}`);
    for (const expected of [
      'POST /tokens',
      'POST /plugins',
      'POST /vdbs',
      'POST /dsources',
      'POST /environments',
      'POST /sourceconfigs',
      'POST /bookmarks',
      'POST /policies',
      'POST /vdbs/:ref/start',
      'POST /runs/:id/cancel',
      'PUT /hooks/:ref/:event',
    ])
      expect(seen).toContain(expected);

    const accepted: string[] = [];
    for (const { method, route } of taking) {
      const schema = route.schema as { body?: Schema; params?: Schema } | undefined;
      const url = route.url.replace(/:(\w+)/g, (_, name: string) => {
        const value = valueOf(schema?.params?.properties?.[name]);
        return encodeURIComponent(value === 'x' ? 'nothing' : String(value));
      });
      const answer = await app.inject({
        method,
        url,
        headers: { authorization: `${as.authorization}${admin}` },
        payload: { ...bodyOf(schema?.body), unknownField: 1 },
      });
      const refusal = answer.json<Refusal>();
      const refused =
        answer.statusCode === 400 &&
        refusal.error.code === 'VALIDATION_FAILED' &&
        (refusal.error.details?.issues ?? []).some(
          (issue) => issue.pointer === '/unknownField' && issue.message === 'is not a known field',
        );
      if (!refused) accepted.push(`${method} ${route.url}: ${answer.statusCode} ${answer.body}`);
    }
    expect(accepted).toEqual([]);
  });
});

describe('names', () => {
  const bad = ['ops\u202etxt.exe', 'line\nbreak', 'bell\u0007', 'esc\u001b[31m', 'iso\u2066late', 'c1\u0085'];

  it('of tokens refuse control characters and bidirectional overrides; nothing is created', async () => {
    const before = (await new TokenStore(runtime.ctx.model.redis).list()).length;
    for (const name of bad) {
      const answer = await app.inject({
        method: 'POST',
        url: '/tokens',
        headers: { authorization: `${as.authorization}${admin}` },
        payload: { role: 'viewer', name },
      });
      expect(answer.statusCode, name).toBe(400);
      expect(answer.json<Refusal>().error.details?.issues).toEqual([
        { pointer: '/name', message: expect.stringMatching(/^holds U\+[0-9A-F]{4}: control characters/) as string },
      ]);
    }
    expect((await new TokenStore(runtime.ctx.model.redis).list()).length).toBe(before);
    const fine = await app.inject({
      method: 'POST',
      url: '/tokens',
      headers: { authorization: `${as.authorization}${admin}` },
      payload: { role: 'viewer', name: 'Zoë’s CI token' },
    });
    expect(fine.statusCode).toBe(201);
  });

  it('of plugins, VDBs and dSources refuse them too', async () => {
    const artifact = await makeArtifact({ entry: 'noop-plugin.ts', pluginType: 'STAGED' });
    for (const name of bad) {
      const plugin = await app.inject({
        method: 'POST',
        url: '/plugins',
        headers: { authorization: `${as.authorization}${admin}` },
        payload: { ...artifact, manifest: { ...artifact.manifest, name } },
      });
      expect(plugin.statusCode, name).toBe(400);
      expect(plugin.json<Refusal>().error.details?.issues?.[0]?.pointer).toBe('/manifest/name');
      for (const [url, body] of [
        ['/vdbs', { name, source: 'x', environment: 'x' }],
        ['/dsources', { name, sourceConfig: 'x' }],
      ] as const) {
        const answer = await app.inject({
          method: 'POST',
          url,
          headers: { authorization: `${as.authorization}${admin}` },
          payload: body,
        });
        expect(answer.statusCode, `${url} ${name}`).toBe(400);
        expect(answer.json<Refusal>().error.details?.issues?.[0]?.pointer).toBe('/name');
      }
    }
    expect(await runtime.ctx.model.plugins.list()).toEqual([]);
  });
});
