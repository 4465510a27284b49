// How soon a step orphaned by a killed engine runs again once an engine is back: the engine is SIGKILLed in the
// middle of a 3 s step, a new engine process starts, and we time from its "ready" line (and from the kill) to the
// step's next attempt. The design target is under 10 s (BullMQ's default lock and stall settings take 30-60 s).
import { Redis } from 'ioredis';
import { parseRedisUrl } from '../model/redis-target.js';
import { DurableEngine } from '../workers/durable-engine.js';
import { startEngineProcess } from '../test/harness/engine-process.js';
import { startRedisServer } from '../test/harness/redis-server.js';
import { waitFor } from '../test/harness/wait-for.js';
import { calls, chainLifecycle, testHandlers } from '../test/workers/test-lifecycles.js';
import { round, summarize } from './lib/stats.js';

const ROUNDS = 5;

export default async function recovery() {
  const redis = await startRedisServer();
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  const starter = await DurableEngine.start({
    redis: parseRedisUrl(redis.url),
    handlers: testHandlers(client),
    lifecycles: [chainLifecycle],
    runWorkers: false,
  });
  const env = { DVX_TEST_REDIS: redis.url, DVX_TEST_RETRY: JSON.stringify({ initialDelayMs: 100, maxDelayMs: 500 }) };
  const fromReady: number[] = [];
  const fromKill: number[] = [];
  try {
    let engine = await startEngineProcess(env);
    for (let round = 0; round < ROUNDS; round += 1) {
      const run = await starter.driver.start(
        'test-chain',
        { objectId: `bench-${round}`, stepMs: 3_000 },
        { objectType: 'thing', objectId: `bench-${round}` },
      );
      await waitFor(
        'the first step to start',
        async () => ((await calls(client, run.id)).length >= 1 ? true : null),
        30_000,
        10,
      );
      await engine.kill();
      const killedAt = performance.now();
      engine = await startEngineProcess(env);
      const readyAt = performance.now();
      await waitFor(
        'the orphaned step to run again',
        async () => ((await calls(client, run.id)).length >= 2 ? true : null),
        120_000,
        10,
      );
      const resumedAt = performance.now();
      fromReady.push(resumedAt - readyAt);
      fromKill.push(resumedAt - killedAt);
      await waitFor(
        'the run to end',
        async () => ((await starter.store.get(run.id))?.status === 'succeeded' ? true : null),
        60_000,
      );
    }
    await engine.stop();
  } finally {
    await starter.stop();
    client.disconnect();
    await redis.remove();
  }
  const ready = summarize(fromReady);
  return {
    rounds: ROUNDS,
    resumeAfterEngineReadyMs: ready,
    resumeAfterKillMs: summarize(fromKill),
    targetMs: 10_000,
    withinTarget: ready.max < 10_000,
    note: `median ${round(ready.p50 / 1000, 2)} s from the new engine's start to the orphaned step running again`,
  };
}
