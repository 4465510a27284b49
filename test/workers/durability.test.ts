import type { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatRun } from '../../cli/run-view.js';
import { keys } from '../../model/keys.js';
import type { RunRecord } from '../../model/run-record.js';
import { RunStore } from '../../model/run-store.js';
import { RunDriver } from '../../workers/run-driver.js';
import { QUEUE_PREFIX, STEP_QUEUE, type StepJobData } from '../../workers/step-job.js';
import { startEngineProcess, type EngineProcess } from '../harness/engine-process.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { waitFor } from '../harness/wait-for.js';
import { calls, chainLifecycle, type ChainInput } from './test-lifecycles.js';
import { must } from '../harness/must.js';

let redis: TestRedis;
let client: Redis;
let store: RunStore;
let queue: Queue<StepJobData>;
let driver: RunDriver;
const engines: EngineProcess[] = [];

const RETRY = JSON.stringify({ initialDelayMs: 200, maxDelayMs: 1_000, deadlineMs: 120_000 });

async function engine(): Promise<EngineProcess> {
  const started = await startEngineProcess({ DVX_TEST_REDIS: redis.url, DVX_TEST_RETRY: RETRY });
  engines.push(started);
  return started;
}

async function start(objectId: string, input: Partial<ChainInput> = {}): Promise<RunRecord> {
  return driver.start('test-chain', { objectId, ...input }, { objectType: 'thing', objectId });
}

async function ended(runId: string, timeoutMs = 60_000): Promise<RunRecord> {
  return waitFor(
    `run ${runId} to end`,
    async () => {
      const run = await store.get(runId);
      return run && run.status !== 'running' ? run : null;
    },
    timeoutMs,
    100,
  );
}

/** No step job left in any live state, and no lock. */
async function nothingLeftBehind(): Promise<void> {
  const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'waiting-children');
  expect(counts).toEqual({ active: 0, waiting: 0, delayed: 0, prioritized: 0, 'waiting-children': 0 });
  expect(await client.keys(keys.lock('*'))).toEqual([]);
  expect(await store.activeRunIds()).toEqual([]);
}

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
  store = new RunStore(client);
  queue = new Queue<StepJobData>(STEP_QUEUE, {
    connection: client,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: { attempts: 1_000_000, backoff: { type: 'dvx' } },
  });
  queue.on('error', () => undefined); // Redis is stopped on purpose in one test
  driver = new RunDriver({ store, queue, lifecycles: [chainLifecycle as never] });
});
afterAll(async () => {
  await queue.close();
  await redis.remove();
});
beforeEach(async () => client.flushall());
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.kill()));
});

describe('durability across engine crashes', () => {
  it('kill -9 in the middle of a step: after restart the run completes, effects happen once, the step repeats with the same operation id', async () => {
    const first = await engine();
    const run = await start('k1', { stepMs: 2_000 });
    await waitFor(
      'step b to be running',
      async () => (await calls(client, run.id)).some((call) => call.name === 'b'),
      30_000,
    );
    await first.kill();

    await engine();
    const done = await ended(run.id);
    expect(done.status).toBe('succeeded');

    const bCalls = (await calls(client, run.id)).filter((call) => call.name === 'b');
    expect(bCalls.length).toBeGreaterThanOrEqual(2);
    expect(new Set(bCalls.map((call) => call.operationId)).size).toBe(1);
    expect((await client.smembers(`test:effects:${run.id}`)).sort()).toEqual([
      `a@${run.id}-1-a`,
      `b@${run.id}-2-b`,
      `c@${run.id}-3-c`,
    ]);
    const detail = must(await store.detail(run.id), '(await store.detail(run.id))');
    expect(detail.log.map((entry) => entry.event)).toEqual([
      'xstate.init',
      'xstate.done.actor.a',
      'xstate.done.actor.b',
      'xstate.done.actor.c',
    ]);
    // The run record (what GET /runs/:id and `dvx run show` read) keeps the attempt the kill cut short.
    const b = must(
      detail.steps.find((step) => step.stepId === 'b'),
      'step b in the run record',
    );
    expect(b.status).toBe('succeeded');
    expect(b.attempts.map((attempt) => [attempt.attempt, attempt.outcome])).toEqual([
      [1, 'interrupted'],
      [2, 'succeeded'],
    ]);
    expect(b.attempts[0]?.error?.code).toBe('STEP_INTERRUPTED');
    const shown = formatRun({ ...detail, currentSteps: [] });
    expect(shown).toMatch(/\n {2}b +\S+ +succeeded after 2 attempts/);
    expect(shown).toMatch(
      /\n {6}attempt 1 {2}interrupted \(engine stopped\), started \S+\n {6}attempt 2 {2}succeeded, started/,
    );
    await nothingLeftBehind();
  });

  it('a run survives Redis being stopped and restarted (AOF) in the middle', async () => {
    await engine();
    const run = await start('r1', { stepMs: 1_500 });
    await waitFor(
      'step b to be running',
      async () => (await calls(client, run.id)).some((call) => call.name === 'b'),
      30_000,
    );
    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await redis.start();
    const done = await ended(run.id, 90_000);
    expect(done.status).toBe('succeeded');
    expect((await client.smembers(`test:effects:${run.id}`)).length).toBe(3);
    await nothingLeftBehind();
  });

  it('chaos: 50 runs, engine SIGKILLed at 3 random moments, every run ends as an undisturbed one would', async () => {
    const inputs = (batch: string) =>
      Array.from({ length: 50 }, (_, i) => ({
        objectId: `${batch}${i}`,
        stepMs: 200 + ((i * 37) % 400),
        ...(i % 7 === 3 ? { failAt: ['c'] } : {}),
        ...(i % 5 === 1 ? { flaky: { a: 2 } } : {}),
      }));
    /** What a run looks like at the end, minus ids and times. */
    const summary = async (run: RunRecord) => {
      const detail = must(await store.detail(run.id), '(await store.detail(run.id))');
      const events = detail.log.map((entry) => entry.event);
      return {
        status: detail.status,
        value: detail.state.value,
        errorCode: detail.error?.code ?? null,
        results: Object.keys((detail.state.context as { results: object }).results).sort(),
        effects: (await client.smembers(`test:effects:${run.id}`)).map((effect) => effect.split('@')[0]).sort(),
        events,
        duplicateEvents: events.length - new Set(events).size,
      };
    };
    const runBatch = async (batch: string, kills: number) => {
      let current = await engine();
      const runs: RunRecord[] = [];
      for (const input of inputs(batch)) runs.push(await start(input.objectId, input));
      let seed = 20261122;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      for (let kill = 0; kill < kills; kill += 1) {
        await new Promise((resolve) => setTimeout(resolve, 500 + random() * 2_500));
        await current.kill();
        current = await engine();
      }
      const summaries = [];
      for (const run of runs) {
        await ended(run.id, 180_000);
        summaries.push(await summary(run));
      }
      await current.stop();
      return summaries;
    };

    const undisturbed = await runBatch('u', 0);
    expect(undisturbed.filter((s) => s.status === 'failed')).toHaveLength(inputs('u').filter((i) => i.failAt).length);
    expect(undisturbed.every((s) => s.duplicateEvents === 0)).toBe(true);
    await nothingLeftBehind();

    const chaos = await runBatch('c', 3);
    expect(chaos).toEqual(undisturbed);
    await nothingLeftBehind();
  });
});
