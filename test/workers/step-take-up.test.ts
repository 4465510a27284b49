import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../errors/index.js';
import { parseRedisUrl } from '../../model/redis-target.js';
import { DurableEngine } from '../../workers/durable-engine.js';
import { RunDriver } from '../../workers/run-driver.js';
import { liveRunCacheFromEnv, openStepChannel } from '../../workers/step-take-up.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { waitFor } from '../harness/wait-for.js';
import { calls, chainLifecycle, testHandlers } from './test-lifecycles.js';

let redis: TestRedis;
let client: Redis;
let engine: DurableEngine | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
});
afterAll(async () => redis.remove());
beforeEach(async () => client.flushall());
afterEach(async () => {
  await engine?.stop({ deadlineMs: 5_000 });
  engine = undefined;
});

describe('step take-up', () => {
  for (const liveRunCache of [true, false]) {
    it(`with the in-memory run cache ${liveRunCache ? 'on, takes up the steps of the runs it writes from memory' : 'off, takes up every step through Redis'}`, async () => {
      engine = await DurableEngine.start({
        redis: parseRedisUrl(redis.url),
        handlers: testHandlers(client),
        lifecycles: [chainLifecycle as never],
        liveRunCache,
      });
      const store = engine.store;
      const takenUp = { throughRedis: 0, fromMemory: 0 };
      const beginStep = store.beginStep.bind(store);
      store.beginStep = async (...args) => {
        takenUp.throughRedis += 1;
        return beginStep(...args);
      };
      const recordStepStart = store.recordStepStart.bind(store);
      store.recordStepStart = async (...args) => {
        takenUp.fromMemory += 1;
        return recordStepStart(...args);
      };
      // Steps that take longer than an event-loop turn: a step taken up from memory records its start on its own.
      const run = await engine.driver.start(
        'test-chain',
        { objectId: 'c1', stepMs: 50 },
        { objectType: 'thing', objectId: 'c1' },
      );
      const ended = await waitFor('the run to end', async () => {
        const current = await store.get(run.id);
        return current?.status === 'succeeded' ? current : null;
      });
      expect((await calls(client, run.id)).map((call) => `${call.name}#${call.attempt}`)).toEqual([
        'a#1',
        'b#1',
        'c#1',
      ]);
      expect(
        (await store.detail(run.id))?.steps.map((step) => [step.stepId, step.status, step.attempts.length]),
      ).toEqual([
        ['a', 'succeeded', 1],
        ['b', 'succeeded', 1],
        ['c', 'succeeded', 1],
      ]);
      expect(ended.seq).toBe(4);
      expect(takenUp).toEqual(liveRunCache ? { throughRedis: 0, fromMemory: 3 } : { throughRedis: 3, fromMemory: 0 });
      expect(engine.driver.liveRuns.enabled).toBe(liveRunCache);
    });
  }

  it('drops the runs it keeps when the store connection closes', async () => {
    const connection = redis.client();
    const { store, queue, liveRuns } = openStepChannel(connection, { enabled: true });
    const driver = new RunDriver({ store, queue, liveRuns, lifecycles: [chainLifecycle as never] });
    const run = await driver.start('test-chain', { objectId: 'c2' }, { objectType: 'thing', objectId: 'c2' });
    const jobA = `${run.id}-1-a`;
    expect(run.pending.map((step) => step.jobId)).toEqual([jobA]);
    expect(await liveRuns.waitingFor(run.id, jobA)).toMatchObject({ id: run.id, seq: 1 });
    await queue.close();
    connection.disconnect();
    await waitFor('the kept runs to be dropped', () => liveRuns.size === 0, 5_000, 10);
    expect(await liveRuns.waitingFor(run.id, jobA)).toBeUndefined();
  });

  it('the cache is on unless DVX_LIVE_RUN_CACHE says off, and a value it does not know is refused', () => {
    expect(liveRunCacheFromEnv({})).toBe(true);
    expect(liveRunCacheFromEnv({ DVX_LIVE_RUN_CACHE: 'on' })).toBe(true);
    expect(liveRunCacheFromEnv({ DVX_LIVE_RUN_CACHE: 'off' })).toBe(false);
    expect(() => liveRunCacheFromEnv({ DVX_LIVE_RUN_CACHE: 'no' })).toThrow(ValidationError);
  });
});
