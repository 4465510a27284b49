import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../errors/index.js';
import { parseRedisUrl } from '../../model/redis-target.js';
import { DurableEngine } from '../../workers/durable-engine.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { waitFor } from '../harness/wait-for.js';
import { chainLifecycle, testHandlers } from './test-lifecycles.js';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
});
afterAll(async () => redis?.remove());

describe('a durable engine opened before its handlers exist', () => {
  it('starts runs with its driver, takes none up until its workers start, then runs them to the end', async () => {
    const engine = await DurableEngine.open({
      redis: parseRedisUrl(redis.url),
      lifecycles: [chainLifecycle as never],
      retry: { initialDelayMs: 50, maxDelayMs: 200, deadlineMs: 5_000 },
    });
    try {
      const run = await engine.driver.start('test-chain', { objectId: 'o1' }, { objectType: 'thing', objectId: 'o1' });
      expect(engine.startupReport).toEqual({ runs: 0, requeued: 0, delivered: 0, releasedLocks: 0 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await engine.store.get(run.id))?.status).toBe('running');
      expect(await engine.queue.getJobCounts('active', 'completed')).toEqual({ active: 0, completed: 0 });
      await engine.startWorkers(testHandlers(client));
      await waitFor('run to end', async () => (await engine.store.get(run.id))?.status === 'succeeded');
      await expect(engine.startWorkers(testHandlers(client))).rejects.toBeInstanceOf(ConflictError);
    } finally {
      await engine.stop();
    }
  });
});
