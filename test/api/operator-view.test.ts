import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENGINE_QUEUE_NAMES } from '../../api/admin-queues.js';
import { buildServer } from '../../api/server.js';
import { startEngineRuntime, type EngineRuntime } from '../../cli/engine-runtime.js';
import { main } from '../../cli/main.js';
import { packageVersion } from '../../cli/package-info.js';
import { silentLogger } from '../../log/logger.js';
import { TokenStore, type TokenRecord } from '../../model/token-store.js';
import type { RunView } from '../../cli/run-view.js';
import type { SerializedError } from '../../errors/dvx-error.js';
import type { ValidationIssue } from '../../errors/validation-error.js';
import { ReflinkBackend } from '../../storage/index.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait-for.js';
import { chainLifecycle, testHandlers } from '../workers/test-lifecycles.js';
import { must } from '../harness/must.js';

const HOUR = 3_600_000;

let redis: TestRedis;
let client: Redis;
let dir: { path: string; remove(): Promise<void> };
let runtime: EngineRuntime;
let app: FastifyInstance;
const routes: RouteOptions[] = [];
let admin: string;
let viewer: string;
let viewerId: string;
/** A run whose step b waits an hour for its retry: its delayed job is what bull-board's buttons would act on. */
let waitingRun: string;
let waitingJob: string;

const as = (token: string) => ({ authorization: `Bearer ${token}` });

/** The body of a refused request; `issues` is there when the input was invalid. */
type Refusal = { error: SerializedError & { details?: { issues?: ValidationIssue[] } } };
/** The first issue of a refusal of invalid input. */
const firstIssue = (refusal: Refusal) => must(refusal.error.details?.issues?.[0], 'a validation issue');

/** Every key with its value (DUMP), but the audit stream and what BullMQ's own timers touch. */
async function keyspace(): Promise<Map<string, string>> {
  const ignored = (key: string) =>
    key === 'dvx:audit' || key.endsWith(':stalled-check') || /^dvx-bull:dvx-(maintenance|policies|health):/.test(key);
  const values = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys.filter((k) => !ignored(k)))
      values.set(key, ((await client.dumpBuffer(key)) ?? Buffer.alloc(0)).toString('base64'));
  } while (cursor !== '0');
  return values;
}

type AuditEntry = {
  actor: { tokenId: string | null; name: string | null; role: string | null };
  method: string;
  route: string;
  params: Record<string, string>;
  runId: string | null;
  status: number;
  errorCode: string | null;
};

async function auditEntries(query = ''): Promise<AuditEntry[]> {
  const answer = await app.inject({ url: `/audit${query}`, headers: as(admin) });
  expect(answer.statusCode).toBe(200);
  return answer.json<{ entries: AuditEntry[] }>().entries;
}

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
  dir = await makeTempDir('operator-view');
  runtime = await startEngineRuntime({
    dataDir: dir.path,
    redisUrl: redis.url,
    port: 0,
    logger: silentLogger,
    storage: new ReflinkBackend({ root: join(dir.path, 'pool') }),
    handlers: ({ redis: store }) => testHandlers(store),
    // The health monitor is off: it polls on its own schedule, which would change Redis under the "nothing changed" check.
    health: false,
    engine: {
      lifecycles: [chainLifecycle as never],
      retry: { initialDelayMs: HOUR, maxDelayMs: HOUR, deadlineMs: 2 * HOUR },
      reconcileIntervalMs: HOUR,
    },
  });
  admin = (await readFile(join(dir.path, 'admin.token'), 'utf8')).trim();
  const tokens = new TokenStore(runtime.ctx.model.redis);
  const created = await tokens.create('victor', 'viewer');
  viewer = created.token;
  viewerId = created.record.id;
  // A server of its own on the runtime's services, so that every route can be seen as it is added.
  app = buildServer({ context: runtime.ctx, tokens, logger: silentLogger, version: packageVersion() });
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  await app.ready();

  const run = await runtime.durable.driver.start(
    'test-chain',
    { objectId: 'w1', flaky: { b: 1 } },
    { objectType: 'thing', objectId: 'w1' },
  );
  waitingRun = run.id;
  waitingJob = await waitFor('b to wait for its retry', async () => {
    const [job] = await runtime.durable.queue.getJobs(['delayed']);
    return job?.id;
  });
});

afterAll(async () => {
  await app?.close();
  await runtime?.stop(2_000);
  await redis?.remove();
  await dir?.remove();
});

describe('a viewer token', () => {
  it('is refused (403) on every route that is not a read, and nothing changes', async () => {
    const mutating = routes.flatMap((route) =>
      (Array.isArray(route.method) ? route.method : [route.method])
        .filter((method) => method !== 'GET' && method !== 'HEAD')
        .map((method) => ({ method, url: route.url })),
    );
    // The enumeration found the routes of every area, bull-board's API included.
    for (const expected of [
      'POST /vdbs',
      'DELETE /tokens/:id',
      'POST /runs/:id/cancel',
      'PUT /hooks/:ref/:event',
      'PATCH /policies/:ref',
      'PUT /admin/queues/api/queues/:queueName/:jobId/retry',
      'PUT /admin/queues/api/queues/:queueName/clean/:queueStatus',
    ]) {
      expect(mutating.map((route) => `${route.method} ${route.url}`)).toContain(expected);
    }
    const values: Record<string, string> = {
      id: waitingRun,
      ref: 'w1',
      event: 'preStart',
      queueName: 'dvx-steps',
      jobId: waitingJob,
      queueStatus: 'delayed',
      schedulerId: 'reconcile',
    };
    const before = await keyspace();
    for (const route of mutating) {
      let url = route.url.replace(/:([A-Za-z]+)/g, (_, name: string) => encodeURIComponent(values[name] ?? 'x'));
      if (route.url === '/tokens/:id') url = `/tokens/${viewerId}`;
      const answer = await app.inject({
        method: route.method as 'POST',
        url,
        headers: as(viewer),
        payload: { name: 'x', role: 'admin', snapshot: 'x' },
      });
      expect({ route: `${route.method} ${route.url}`, status: answer.statusCode }).toEqual({
        route: `${route.method} ${route.url}`,
        status: 403,
      });
      expect(answer.json<Refusal>().error.code).toBe('FORBIDDEN');
    }
    expect(await keyspace()).toEqual(before);
    expect((await runtime.durable.store.get(waitingRun))?.status).toBe('running');
    expect(await (await runtime.durable.queue.getJob(waitingJob))?.getState()).toBe('delayed');
    // Each refusal is in the audit log, with who tried.
    const refused = (await auditEntries(`?actor=${viewerId}&limit=1000`)).filter((entry) => entry.status === 403);
    expect(refused.length).toBe(mutating.length);
    expect(must(refused[0], 'refused[0]').actor).toMatchObject({ tokenId: viewerId, name: 'victor', role: 'viewer' });
  });
});

describe('tokens', () => {
  it('are created (secret shown once), listed without secrets, and revoked', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/tokens',
      headers: as(admin),
      payload: { role: 'operator', name: 'ci-bot' },
    });
    expect(created.statusCode).toBe(201);
    const { token, secret } = created.json<{ token: TokenRecord; secret: string }>();
    expect(token).toMatchObject({ name: 'ci-bot', role: 'operator' });
    expect(secret).toMatch(/^dvx_/);
    expect((await app.inject({ url: '/runs', headers: as(secret) })).statusCode).toBe(200);

    const listed = await app.inject({ url: '/tokens', headers: as(admin) });
    expect(listed.json<{ tokens: TokenRecord[] }>().tokens.map((t) => t.id)).toContain(token.id);
    for (const known of [secret, admin, viewer]) expect(listed.body).not.toContain(known);

    // Only admins manage tokens.
    expect(
      (await app.inject({ method: 'POST', url: '/tokens', headers: as(secret), payload: { role: 'admin' } }))
        .statusCode,
    ).toBe(403);
    expect((await app.inject({ url: '/tokens', headers: as(viewer) })).statusCode).toBe(403);

    const revoked = await app.inject({ method: 'DELETE', url: `/tokens/${token.id}`, headers: as(admin) });
    expect(revoked.statusCode).toBe(200);
    const refused = await app.inject({ url: '/runs', headers: as(secret) });
    expect(refused.statusCode).toBe(401);
    expect(refused.json<Refusal>().error.code).toBe('UNAUTHORIZED');
    expect(
      (await app.inject({ url: '/tokens', headers: as(admin) }))
        .json<{ tokens: TokenRecord[] }>()
        .tokens.map((t) => t.id),
    ).not.toContain(token.id);
    expect((await app.inject({ method: 'DELETE', url: `/tokens/${token.id}`, headers: as(admin) })).statusCode).toBe(
      404,
    );
  });

  it('refuses an unknown role naming the field and the allowed values', async () => {
    const bad = await app.inject({ method: 'POST', url: '/tokens', headers: as(admin), payload: { role: 'root' } });
    expect(bad.statusCode).toBe(400);
    const { error } = bad.json<Refusal>();
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ pointer: '/role' }] } });
    for (const role of ['admin', 'operator', 'viewer']) expect(error.message).toContain(role);
    expect(
      firstIssue(
        (await app.inject({ method: 'POST', url: '/tokens', headers: as(admin), payload: {} })).json<Refusal>(),
      ).pointer,
    ).toBe('/role');
  });
});

describe('the audit log', () => {
  it('records who, what and the outcome of allowed and refused requests, and never a secret sent in a body', async () => {
    const secret = 'hunter2-not-for-the-log';
    const refused = await app.inject({
      method: 'POST',
      url: '/environments',
      headers: as(viewer),
      payload: { name: 'src', host: '127.0.0.1', user: 'dvx', password: secret },
    });
    expect(refused.statusCode).toBe(403);
    const anonymous = await app.inject({ method: 'DELETE', url: '/vdbs/w1', payload: { password: secret } });
    expect(anonymous.statusCode).toBe(401);
    const created = await app.inject({
      method: 'POST',
      url: '/tokens',
      headers: as(admin),
      payload: { role: 'viewer', name: 'auditor' },
    });
    const cancelled = await app.inject({ method: 'POST', url: `/runs/${waitingRun}/cancel`, headers: as(admin) });
    expect(cancelled.statusCode).toBe(202);
    await waitFor(
      'the run to be cancelled',
      async () => (await runtime.durable.store.get(waitingRun))?.status === 'cancelled',
    );

    const entries = await auditEntries('?limit=4');
    expect(entries).toHaveLength(4);
    const [cancel, token, anon, env] = entries;
    expect(cancel).toMatchObject({
      method: 'POST',
      route: '/runs/:id/cancel',
      params: { id: waitingRun },
      runId: waitingRun,
      status: 202,
      errorCode: null,
      actor: { name: 'admin', role: 'admin' },
    });
    expect(token).toMatchObject({ method: 'POST', route: '/tokens', status: 201, actor: { role: 'admin' } });
    expect(anon).toMatchObject({
      method: 'DELETE',
      route: '/vdbs/:ref',
      params: { ref: 'w1' },
      status: 401,
      errorCode: 'UNAUTHORIZED',
      actor: { tokenId: null, name: null, role: null },
    });
    expect(env).toMatchObject({
      method: 'POST',
      route: '/environments',
      status: 403,
      errorCode: 'FORBIDDEN',
      actor: { tokenId: viewerId, name: 'victor', role: 'viewer' },
    });

    const everything = (await app.inject({ url: '/audit?limit=10000', headers: as(admin) })).body;
    for (const hidden of [secret, created.json<{ secret: string }>().secret, admin, viewer])
      expect(everything).not.toContain(hidden);
    expect(await client.xlen('dvx:audit')).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(await client.xrange('dvx:audit', '-', '+'))).not.toContain(secret);
  });

  it('filters by actor and time, and is for admins only', async () => {
    const byViewer = await auditEntries(`?actor=victor&limit=10000`);
    expect(byViewer.length).toBeGreaterThan(0);
    expect(byViewer.every((entry) => entry.actor.name === 'victor')).toBe(true);
    expect(await auditEntries(`?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
    expect(
      firstIssue((await app.inject({ url: '/audit?since=yesterday', headers: as(admin) })).json<Refusal>()).pointer,
    ).toBe('/since');
    expect((await app.inject({ url: '/audit', headers: as(viewer) })).statusCode).toBe(403);
  });
});

describe('/metrics', () => {
  it('exposes runs, step durations, queue depths, objects and pool usage to a viewer', async () => {
    const ok = await runtime.durable.driver.start(
      'test-chain',
      { objectId: 'm1' },
      { objectType: 'thing', objectId: 'm1' },
    );
    const bad = await runtime.durable.driver.start(
      'test-chain',
      { objectId: 'm2', failAt: ['c'] },
      { objectType: 'thing', objectId: 'm2' },
    );
    await waitFor(
      'both runs to end',
      async () =>
        (await runtime.durable.store.get(ok.id))?.status === 'succeeded' &&
        (await runtime.durable.store.get(bad.id))?.status === 'failed',
    );
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const answer = await app.inject({ url: '/metrics', headers: as(viewer) });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toContain('text/plain');
    const text = answer.body;
    expect(text).toMatch(/^dvx_runs_total\{kind="test-chain",outcome="succeeded"\} [1-9]/m);
    expect(text).toMatch(/^dvx_runs_total\{kind="test-chain",outcome="failed"\} [1-9]/m);
    expect(text).toMatch(/^dvx_step_duration_seconds_count\{kind="test-chain",step="a",outcome="done"\} [1-9]/m);
    expect(text).toMatch(/^dvx_step_duration_seconds_count\{kind="test-chain",step="c",outcome="error"\} [1-9]/m);
    for (const state of ['waiting', 'active', 'delayed', 'failed'])
      expect(text).toMatch(new RegExp(`^dvx_queue_jobs\\{queue="dvx-steps",state="${state}"\\} \\d+`, 'm'));
    expect(text).toMatch(/^dvx_queue_jobs\{queue="dvx-steps",state="failed"\} [1-9]/m);
    expect(text).toMatch(/^dvx_objects\{type="vdb",status="ACTIVE"\} 0/m);
    expect(text).toMatch(/^dvx_objects\{type="dsource",status="UNREACHABLE"\} 0/m);
    const total = Number(/^dvx_storage_pool_bytes\{backend="reflink",usage="total"\} (\d+)/m.exec(text)?.[1]);
    expect(total).toBeGreaterThan(0);
  });
});

describe('/openapi.json and /docs', () => {
  it('list every route with its method, path parameters and tags, without a token', async () => {
    const answer = await app.inject({ url: '/openapi.json' });
    expect(answer.statusCode).toBe(200);
    const spec = answer.json() as {
      paths: Record<
        string,
        Record<string, { tags?: string[]; parameters?: { in: string; name: string }[]; security?: unknown }>
      >;
    };
    const documented = routes.filter((route) => !(route.schema as { hide?: boolean } | undefined)?.hide);
    expect(documented.length).toBeGreaterThan(40);
    for (const route of documented) {
      for (const method of (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD')) {
        const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        const operation = spec.paths[path]?.[method.toLowerCase()];
        expect(operation, `${method} ${route.url}`).toBeDefined();
        expect(must(operation, 'operation').tags?.length, `${method} ${route.url} tags`).toBeGreaterThan(0);
        const names = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]);
        expect(
          (must(operation, 'operation').parameters ?? [])
            .filter((p) => p.in === 'path')
            .map((p) => p.name)
            .sort(),
        ).toEqual(names.sort());
      }
    }
    expect(must(spec.paths['/tokens']?.post, 'POST /tokens in the spec').security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(spec.paths).some((path) => path.startsWith('/admin/queues'))).toBe(false);
    const docs = await app.inject({ url: '/docs' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger-ui');
    expect((await app.inject({ url: '/docs/static/swagger-ui.css' })).statusCode).toBe(200);
  });
});

describe('/admin/queues', () => {
  it('serves bull-board to a browser signed in with ?token=, read-only for a viewer, with each job linked to its run', async () => {
    expect((await app.inject({ url: '/admin/queues' })).statusCode).toBe(401);
    const signIn = await app.inject({ url: `/admin/queues?token=${viewer}` });
    expect(signIn.statusCode).toBe(303);
    expect(signIn.headers.location).toBe('/admin/queues');
    const setCookie = String(signIn.headers['set-cookie']);
    expect(setCookie).toMatch(/^dvx_token=dvx_[^;]+; Path=\/admin\/queues; HttpOnly; SameSite=Strict/);
    const cookie = { cookie: must(setCookie.split(';')[0], 'the cookie') };

    const page = await app.inject({ url: '/admin/queues', headers: cookie });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<base href="/admin/queues/" />');
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    const asset = await app.inject({ url: `/admin/queues/${script}`, headers: cookie });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toContain('javascript');
    // The cookie is good for the board only.
    expect((await app.inject({ url: '/runs', headers: cookie })).statusCode).toBe(401);

    const failed = await app.inject({
      url: '/admin/queues/api/queues?activeQueue=dvx-steps&status=failed&page=1',
      headers: cookie,
    });
    expect(failed.statusCode).toBe(200);
    type BoardJob = {
      id: string;
      name: string;
      data: { runId: string };
      externalUrl: { href: string; displayText: string };
    };
    const steps = must(
      failed
        .json<{ queues: { name: string; jobs: BoardJob[] }[] }>()
        .queues.find((queue) => queue.name === 'dvx-steps'),
      'the dvx-steps queue',
    );
    const job = must(steps.jobs[0], 'a failed job');
    expect(job.name).toContain(`run ${job.data.runId}`);
    expect(job.externalUrl).toEqual({
      displayText: `run ${job.data.runId}`,
      href: `/admin/queues/runs/${job.data.runId}`,
    });
    const linked = await app.inject({ url: job.externalUrl.href, headers: cookie });
    expect(linked.statusCode).toBe(200);
    expect(linked.json<{ run: RunView }>().run.id).toBe(job.data.runId);

    for (const headers of [cookie, as(viewer)]) {
      for (const url of [
        `/admin/queues/api/queues/dvx-steps/${job.id}/retry`,
        '/admin/queues/api/queues/dvx-steps/clean/failed',
        `/admin/queues/api/queues/dvx-steps/${job.id}/clean`,
      ]) {
        const refused = await app.inject({ method: 'PUT', url, headers });
        expect(refused.statusCode, url).toBe(403);
        expect(refused.json<Refusal>().error.code).toBe('FORBIDDEN');
      }
    }
    expect(await (await runtime.durable.queue.getJob(job.id))?.getState()).toBe('failed');

    const retried = await app.inject({
      method: 'PUT',
      url: `/admin/queues/api/queues/dvx-steps/${job.id}/retry`,
      headers: as(admin),
    });
    expect(retried.statusCode).toBeLessThan(300);
    await waitFor(
      'the retried job to leave the failed set',
      async () => (await (await runtime.durable.queue.getJob(job.id))?.getState()) !== 'failed',
    );
    const cleaned = await app.inject({
      method: 'PUT',
      url: '/admin/queues/api/queues/dvx-steps/clean/completed',
      headers: as(admin),
    });
    expect(cleaned.statusCode).toBeLessThan(300);
    const audit = await auditEntries('?limit=2');
    expect(audit.map((entry) => [entry.route, entry.status])).toEqual([
      ['/admin/queues/api/queues/:queueName/clean/:queueStatus', cleaned.statusCode],
      ['/admin/queues/api/queues/:queueName/:jobId/retry', retried.statusCode],
    ]);
  });

  it('knows every queue the engine made', async () => {
    const names = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', 'dvx-bull:*', 'COUNT', 1000);
      cursor = next;
      for (const key of keys) names.add(must(key.split(':')[1], 'the name in the key'));
    } while (cursor !== '0');
    expect(names.size).toBeGreaterThan(1);
    for (const name of names) expect(ENGINE_QUEUE_NAMES).toContain(name);
  });
});

/** The `dvx` command (its `main`, in this process), against the runtime's API. */
async function dvx(token: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  process.exitCode = undefined;
  try {
    await main(['node', 'dvx', '--engine', runtime.url, '--token', token, ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, stdout, stderr };
}

describe('dvx token and dvx audit', () => {
  it('create, list and revoke tokens, and show the audit log as a table or JSON', async () => {
    const created = await dvx(admin, 'token', 'create', '--role', 'operator', '--name', 'cli-made');
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^dvx_\S+$/);
    expect(created.stderr).toContain('not shown again');

    const listed = await dvx(admin, 'token', 'list');
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+ROLE\s+CREATED$/);
    expect(listed.stdout).toMatch(/cli-made\s+operator/);
    expect(listed.stdout).not.toContain(secret);
    const id = must(
      (
        JSON.parse((await dvx(admin, '--json', 'token', 'list')).stdout) as { tokens: { id: string; name: string }[] }
      ).tokens.find((t) => t.name === 'cli-made'),
      'the cli-made token',
    ).id;

    const bad = await dvx(admin, 'token', 'create', '--role', 'root');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('admin, operator, viewer');

    expect((await dvx(secret, 'token', 'list')).code).not.toBe(0);
    const removed = await dvx(admin, 'token', 'rm', id);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`revoked operator token ${id}`);
    expect((await app.inject({ url: '/runs', headers: as(secret) })).statusCode).toBe(401);

    const table = await dvx(admin, 'audit', '--limit', '3');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME\s+ACTOR\s+REQUEST\s+OBJECTS\s+RUN\s+STATUS\s+ERROR$/);
    expect(table.stdout).toMatch(new RegExp(`admin \\(admin\\)\\s+DELETE /tokens/:id\\s+${id}\\s+-\\s+200\\s+-`));
    const json = JSON.parse((await dvx(admin, '--json', 'audit', '--actor', 'admin', '--limit', '5')).stdout) as {
      entries: { actor: { name: string } }[];
    };
    expect(json.entries.length).toBeGreaterThan(0);
    expect(json.entries.every((entry) => entry.actor.name === 'admin')).toBe(true);
    expect((await dvx(viewer, 'audit')).code).not.toBe(0);
  });
});
