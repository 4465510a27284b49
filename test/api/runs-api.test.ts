import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineRuntime, type EngineRuntime } from '../../cli/engine-runtime.js';
import { silentLogger } from '../../log/logger.js';
import { ReflinkBackend } from '../../storage/index.js';
import { TokenStore } from '../../model/token-store.js';
import type { DurableEngine } from '../../workers/durable-engine.js';
import type { RunView } from '../../cli/run-view.js';
import type { SerializedError } from '../../errors/dvx-error.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait-for.js';
import { chainLifecycle, testHandlers } from '../workers/test-lifecycles.js';

let redis: TestRedis;
let client: Redis;
let dir: { path: string; remove(): Promise<void> };
let runtime: EngineRuntime;
let engine: DurableEngine;
let app: FastifyInstance;
let admin: string;
let viewer: string;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
  dir = await makeTempDir('runs-api');
  runtime = await startEngineRuntime({
    dataDir: dir.path,
    redisUrl: redis.url,
    port: 0,
    logger: silentLogger,
    storage: new ReflinkBackend({ root: join(dir.path, 'pool') }),
    handlers: ({ redis: store }) => testHandlers(store),
    health: false,
    engine: {
      lifecycles: [chainLifecycle as never],
      retry: { initialDelayMs: 2_000, maxDelayMs: 2_000, deadlineMs: 60_000 },
    },
  });
  engine = runtime.durable;
  app = runtime.api;
  const tokens = new TokenStore(client);
  admin = (await tokens.create('alice', 'admin')).token;
  viewer = (await tokens.create('victor', 'viewer')).token;
});
afterAll(async () => {
  await runtime.stop();
  await redis.remove();
  await dir.remove();
});

const as = (token: string) => ({ authorization: `Bearer ${token}` });

/** The body of a refused request. */
type Refusal = { error: SerializedError };

describe('runs API', () => {
  it('answers /health without a token and refuses everything else without one', async () => {
    expect((await app.inject({ url: '/health' })).json()).toMatchObject({ status: 'ok' });
    const refused = await app.inject({ url: '/runs' });
    expect(refused.statusCode).toBe(401);
    expect(refused.json<Refusal>().error).toMatchObject({
      code: 'UNAUTHORIZED',
      message: 'This request needs an API token.',
    });
    expect((await app.inject({ url: '/runs', headers: as('dvx_forged') })).statusCode).toBe(401);
  });

  it('lists and shows runs with their timeline, and 404s unknown ones', async () => {
    const run = await engine.driver.start('test-chain', { objectId: 'x1' }, { objectType: 'thing', objectId: 'x1' });
    await waitFor('run to end', async () => (await engine.store.get(run.id))?.status === 'succeeded');
    const list = (await app.inject({ url: '/runs?objectType=thing&objectId=x1', headers: as(viewer) })).json<{
      runs: RunView[];
    }>();
    expect(list.runs).toHaveLength(1);
    expect(list.runs[0]).toMatchObject({ id: run.id, kind: 'test-chain', status: 'succeeded', currentSteps: [] });
    const shown = (await app.inject({ url: `/runs/${run.id}`, headers: as(viewer) })).json<{ run: RunView }>().run;
    expect(shown.steps.map((step) => step.stepId)).toEqual(['a', 'b', 'c']);
    expect(shown.steps[0]).toMatchObject({
      operationId: `${run.id}-1-a`,
      status: 'succeeded',
      attempts: [{ attempt: 1, outcome: 'succeeded' }],
    });
    const missing = await app.inject({ url: '/runs/run-nope', headers: as(viewer) });
    expect(missing.statusCode).toBe(404);
    expect(missing.json<Refusal>().error.action).toContain('dvx run list');
    const bad = await app.inject({ url: '/runs?status=weird', headers: as(viewer) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<Refusal>().error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ pointer: '/status' }] },
    });
  });

  it('pages runs by kind and status with limit and offset, newest first', async () => {
    const started = [];
    for (const objectId of ['p1', 'p2', 'p3']) {
      const run = await engine.driver.start('test-chain', { objectId }, { objectType: 'page', objectId });
      await waitFor('run to end', async () => (await engine.store.get(run.id))?.status === 'succeeded');
      started.push(run.id);
    }
    const page = async (query: string) =>
      (
        (await app.inject({ url: `/runs?kind=test-chain&status=succeeded&${query}`, headers: as(viewer) })).json() as {
          runs: { id: string }[];
        }
      ).runs.map((run) => run.id);
    const newestFirst = await page('limit=1000');
    expect(newestFirst.slice(0, 3)).toEqual([...started].reverse());
    expect(await page('limit=2&offset=0')).toEqual(newestFirst.slice(0, 2));
    expect(await page('limit=2&offset=2')).toEqual(newestFirst.slice(2, 4));
    const byObject = await app.inject({ url: '/runs?objectId=p2&offset=1', headers: as(viewer) });
    expect(byObject.json<{ runs: RunView[] }>().runs).toEqual([]);
    expect((await app.inject({ url: '/runs?offset=-1', headers: as(viewer) })).statusCode).toBe(400);
  });

  it('cancels a running run (operator), forbids viewers, and refuses to cancel an ended run', async () => {
    const run = await engine.driver.start(
      'test-chain',
      { objectId: 'x2', flaky: { b: 100 } },
      { objectType: 'thing', objectId: 'x2' },
    );
    await waitFor('b to wait for a retry', async () => (await engine.queue.getJobCounts('delayed')).delayed === 1);
    const forbidden = await app.inject({ method: 'POST', url: `/runs/${run.id}/cancel`, headers: as(viewer) });
    expect(forbidden.statusCode).toBe(403);
    const accepted = await app.inject({ method: 'POST', url: `/runs/${run.id}/cancel`, headers: as(admin) });
    expect(accepted.statusCode).toBe(202);
    await waitFor('run to be cancelled', async () => (await engine.store.get(run.id))?.status === 'cancelled');
    const again = await app.inject({ method: 'POST', url: `/runs/${run.id}/cancel`, headers: as(admin) });
    expect(again.statusCode).toBe(409);
    expect(again.json<Refusal>().error.message).toContain('has already been cancelled');
  });
});
