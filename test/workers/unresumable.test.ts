// A run this engine cannot resume (unknown kind or machine version) is failed by a compare-and-set like any other
// transition: when another writer moved the run first, the driver must notice and decide again from a fresh read.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { RunStore } from '../../model/run-store.js';
import { RunDriver } from '../../workers/run-driver.js';
import type { StepJobData } from '../../workers/step-job.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';

let redis: TestRedis;
let client: Redis;
let queue: Queue<StepJobData>;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
  queue = new Queue<StepJobData>('unresumable-test', { connection: redis.client() });
});
afterAll(async () => {
  await queue.close();
  await redis.remove();
});
beforeEach(async () => client.flushall());

it('fails an unresumable run even when the record it was handed is out of date', async () => {
  const store = new RunStore(client);
  const log = {
    seq: 1,
    at: new Date().toISOString(),
    event: 'xstate.init',
    from: null,
    to: 'a',
    started: [],
    actor: 'engine',
  };
  const stale = await store.create({
    id: 'run-old',
    kind: 'retired-kind',
    machineVersion: 1,
    status: 'running',
    state: { value: 'a', context: {} },
    pending: [],
    objectType: 'thing',
    objectId: 'o1',
    locks: ['thing/o1'],
    requestedBy: 'alice',
    log,
  });
  // Another engine moves the run on after this driver read it.
  expect(
    await store.persist(stale, {
      expectedSeq: 1,
      seq: 2,
      status: 'running',
      state: { value: 'b', context: {} },
      pending: [],
      log: { ...log, seq: 2, to: 'b' },
    }),
  ).toBe(true);

  const driver = new RunDriver({ store, queue, lifecycles: [] });
  expect(await driver.deliver('run-old', { type: 'CANCEL' }, { run: stale })).toBe('applied');
  const run = await store.get('run-old');
  expect(run).toMatchObject({ status: 'failed', seq: 3, error: { code: 'MACHINE_VERSION_UNSUPPORTED' } });
  expect(await store.lockHolder('thing/o1')).toBeNull();
});
