import type { Redis } from 'ioredis';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDvxError } from '../../errors/index.js';
import { runBash, SshConnectionPool } from '../../hosts/index.js';
import { silentLogger } from '../../log/logger.js';
import { LIFECYCLES } from '../../machines/index.js';
import { DvxModel } from '../../model/dvx-model.js';
import { parseRedisUrl } from '../../model/redis-target.js';
import { SecretBox } from '../../model/secret-box.js';
import { BindMountTransport } from '../../storage/bind-mount-transport.js';
import { ReflinkBackend } from '../../storage/reflink-backend.js';
import { DurableEngine } from '../../workers/durable-engine.js';
import { missingHandlers } from '../../workers/missing-handlers.js';
import type { StepHandlers } from '../../workers/step-handler.js';
import { createStepHandlers } from '../../workers/steps/index.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { chainLifecycle, testHandlers } from './test-lifecycles.js';

let redis: TestRedis;
let client: Redis;
let dir: Awaited<ReturnType<typeof makeTempDir>>;
let hosts: SshConnectionPool;
let handlers: StepHandlers;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
  dir = await makeTempDir('step-handlers');
  hosts = new SshConnectionPool({ logger: silentLogger });
  handlers = createStepHandlers({
    model: new DvxModel(client),
    secrets: SecretBox.random(),
    storage: new ReflinkBackend({ root: join(dir.path, 'pool') }),
    mounts: new BindMountTransport({ runBash }),
    hosts,
    logger: silentLogger,
  });
});

afterAll(async () => {
  await hosts?.close();
  await redis?.remove();
  await dir?.remove();
});

const without = (all: StepHandlers, src: string): StepHandlers =>
  Object.fromEntries(Object.entries(all).filter(([name]) => name !== src));

async function refusal(start: Promise<DurableEngine>) {
  const error: unknown = await start.then(
    async (engine) => {
      await engine.stop();
      return null;
    },
    (reason: unknown) => reason,
  );
  if (!isDvxError(error)) throw new Error(`the engine started, or failed otherwise: ${String(error)}`);
  return error;
}

describe('every step of every lifecycle has a handler', () => {
  it.each(LIFECYCLES.map((lifecycle) => [lifecycle.kind, lifecycle] as const))(
    '%s: forward, undo and onFailure steps',
    (_kind, lifecycle) => {
      const srcs = lifecycle.steps.map((step) => step.src);
      expect(srcs.length).toBeGreaterThan(0);
      expect(srcs.filter((src) => typeof handlers[src] !== 'function')).toEqual([]);
    },
  );

  it('the steps walked are those the machines invoke (undo and onFailure steps included)', () => {
    const provision = LIFECYCLES.find((lifecycle) => lifecycle.kind === 'provision');
    expect(provision?.steps).toEqual(
      expect.arrayContaining([
        { id: 'destroyClone', src: 'storage.destroyDataset' },
        { id: 'markFailed', src: 'model.recordFailure' },
      ]),
    );
    expect(missingHandlers(LIFECYCLES, handlers)).toEqual([]);
  });
});

describe('the engine refuses to start without a handler for a step', () => {
  it('names every step it could not run, for dvx lifecycles', async () => {
    const error = await refusal(
      DurableEngine.start({
        redis: parseRedisUrl(redis.url),
        handlers: without(handlers, 'mount.detachVdb'),
        runWorkers: false,
        logger: silentLogger,
      }),
    );
    expect(error.code).toBe('STEP_HANDLER_MISSING');
    expect(error.action).toMatch(/handler/);
    // detachVdb is a forward step of vdb-delete and vdb-disable, and an undo of provision, enable, rewind, refresh.
    expect(error.details?.missing).toEqual(
      expect.arrayContaining([
        'vdb-delete/detach (mount.detachVdb)',
        'provision/detach (mount.detachVdb)',
        'vdb-rewind/detachClone (mount.detachVdb)',
      ]),
    );
    expect(error.message).toContain('provision/detach (mount.detachVdb)');
  });

  it('names a missing undo and onFailure handler of a test lifecycle, and starts once it has them', async () => {
    const all = testHandlers(client);
    const error = await refusal(
      DurableEngine.start({
        redis: parseRedisUrl(redis.url),
        handlers: without(all, 'test.undo'),
        lifecycles: [chainLifecycle],
        runWorkers: false,
      }),
    );
    expect(error.code).toBe('STEP_HANDLER_MISSING');
    expect(error.details?.missing).toEqual(['test-chain/unB (test.undo)', 'test-chain/markFailed (test.undo)']);

    const engine = await DurableEngine.start({
      redis: parseRedisUrl(redis.url),
      handlers: all,
      lifecycles: [chainLifecycle],
      runWorkers: false,
    });
    await engine.stop();
  });
});
