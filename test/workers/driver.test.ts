import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DvxError } from '../../errors/index.js';
import { defineLifecycle } from '../../machines/index.js';
import { keys } from '../../model/keys.js';
import { parseRedisUrl } from '../../model/redis-target.js';
import { DurableEngine } from '../../workers/durable-engine.js';
import { RunDriver } from '../../workers/run-driver.js';
import type { StepContext } from '../../workers/step-handler.js';
import { QUEUE_PREFIX, STEP_QUEUE, type StepJobData } from '../../workers/step-job.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { waitFor } from '../harness/wait-for.js';
import { calls, chainLifecycle, testHandlers } from './test-lifecycles.js';
import { must } from '../harness/must.js';

let redis: TestRedis;
let client: Redis;
let engine: DurableEngine;

async function startEngine(overrides: Partial<Parameters<typeof DurableEngine.start>[0]> = {}) {
  return DurableEngine.start({
    redis: parseRedisUrl(redis.url),
    handlers: testHandlers(client),
    lifecycles: [chainLifecycle as never],
    retry: { initialDelayMs: 50, maxDelayMs: 200, deadlineMs: 5_000 },
    worker: { lockDurationMs: 2_000, stalledIntervalMs: 1_000 },
    ...overrides,
  });
}

async function finished(runId: string, timeoutMs = 20_000) {
  return waitFor(
    `run ${runId} to end`,
    async () => {
      const run = await engine.store.get(runId);
      return run && run.status !== 'running' ? run : null;
    },
    timeoutMs,
  );
}

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
});
afterAll(async () => redis.remove());
beforeEach(async () => {
  await client.flushall();
  engine = await startEngine();
});
afterEach(async () => engine.stop({ deadlineMs: 5_000 }));

describe('run driver', () => {
  it('runs a lifecycle to the end, keeps its timeline and leaves no lock or job behind', async () => {
    const run = await engine.driver.start(
      'test-chain',
      { objectId: 'o1' },
      { objectType: 'thing', objectId: 'o1', requestedBy: 'alice' },
    );
    const ended = await finished(run.id);
    expect(ended.status).toBe('succeeded');
    const detail = must(await engine.store.detail(run.id), '(await engine.store.detail(run.id))');
    expect(detail.steps.map((step) => [step.stepId, step.status, step.attempts.length])).toEqual([
      ['a', 'succeeded', 1],
      ['b', 'succeeded', 1],
      ['c', 'succeeded', 1],
    ]);
    expect(detail.steps.every((step) => step.operationId === step.jobId && !step.jobId.includes(':'))).toBe(true);
    expect(detail.log.map((entry) => entry.event)).toEqual([
      'xstate.init',
      'xstate.done.actor.a',
      'xstate.done.actor.b',
      'xstate.done.actor.c',
    ]);
    expect(detail.log[0]).toMatchObject({ actor: 'alice', started: ['a'] });
    expect(detail.log.map((entry) => entry.seq)).toEqual([1, 2, 3, 4]);
    expect(await client.exists(keys.lock('thing/o1'))).toBe(0);
    expect(await client.sismember(keys.activeRuns(), run.id)).toBe(0);
    const counts = await engine.queue.getJobCounts('active', 'waiting', 'delayed');
    expect(counts).toEqual({ active: 0, waiting: 0, delayed: 0 });
  });

  it('the timeline shows a step at work as running, and a step done at once with its start and end', async () => {
    const slow = await engine.driver.start(
      'test-chain',
      { objectId: 'o15', stepMs: 600 },
      { objectType: 'thing', objectId: 'o15' },
    );
    const running = await waitFor('a to show as running', async () => {
      const step = (await engine.store.detail(slow.id))?.steps[0];
      return step?.status === 'running' ? step : null;
    });
    expect(running).toMatchObject({ stepId: 'a', jobId: `${slow.id}-1-a` });
    expect(running.attempts).toEqual([{ attempt: 1, startedAt: running.startedAt }]);
    await finished(slow.id);

    await engine.stop();
    const instant = defineLifecycle({
      kind: 'test-instant',
      version: 1,
      description: 'two steps that return at once',
      steps: [
        { id: 'x', src: 'test.instant', input: () => ({}) },
        { id: 'y', src: 'test.instant', input: () => ({}) },
      ],
    });
    engine = await startEngine({
      lifecycles: [instant as never],
      handlers: { 'test.instant': (async () => ({ done: true })) as never },
    });
    const run = await engine.driver.start('test-instant', {}, { objectType: 'thing', objectId: 'o16' });
    expect((await finished(run.id)).status).toBe('succeeded');
    const steps = must(await engine.store.detail(run.id), '(await engine.store.detail(run.id))').steps;
    expect(
      steps.map((step) => [
        step.stepId,
        step.status,
        step.operationId === step.jobId,
        step.attempts.map((attempt) => attempt.outcome),
      ]),
    ).toEqual([
      ['x', 'succeeded', true, ['succeeded']],
      ['y', 'succeeded', true, ['succeeded']],
    ]);
    for (const step of steps) expect(must(step.attempts[0], 'step.attempts[0]').startedAt).toBe(step.startedAt);
  });

  it('two engines on one Redis share the steps of the same runs, each step running once', async () => {
    const byEngine = { first: 0, second: 0 };
    const counted = (name: keyof typeof byEngine) => {
      const handlers = testHandlers(client);
      return Object.fromEntries(
        Object.entries(handlers).map(([src, handler]) => [
          src,
          (async (input: never, context: never) => {
            byEngine[name] += 1;
            return handler(input, context);
          }) as never,
        ]),
      );
    };
    await engine.stop();
    engine = await startEngine({ handlers: counted('first'), worker: { concurrency: 2 } });
    const second = await startEngine({ handlers: counted('second'), worker: { concurrency: 2 } });
    try {
      const runs = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          engine.driver.start('test-chain', { objectId: `m${i}` }, { objectType: 'thing', objectId: `m${i}` }),
        ),
      );
      for (const run of runs) {
        expect((await finished(run.id)).status).toBe('succeeded');
        expect((await calls(client, run.id)).map((call) => `${call.name}#${call.attempt}`)).toEqual([
          'a#1',
          'b#1',
          'c#1',
        ]);
        expect(
          must(await engine.store.detail(run.id), '(await engine.store.detail(run.id))').steps.map(
            (step) => step.attempts.length,
          ),
        ).toEqual([1, 1, 1]);
      }
      expect(byEngine.first + byEngine.second).toBe(60);
      expect(byEngine.second).toBeGreaterThan(0);
    } finally {
      await second.stop();
    }
  });

  it('refuses a second run on a locked object, naming the run that holds it, and changes nothing', async () => {
    const first = await engine.driver.start(
      'test-chain',
      { objectId: 'o2', stepMs: 300 },
      { objectType: 'thing', objectId: 'o2' },
    );
    const error = await engine.driver
      .start('test-chain', { objectId: 'o2' }, { objectType: 'thing', objectId: 'o2' })
      .catch((e: DvxError) => e);
    expect(error).toBeInstanceOf(DvxError);
    expect(error).toMatchObject({ code: 'OBJECT_LOCKED', details: { runId: first.id, object: 'thing/o2' } });
    expect((error as DvxError).message).toContain(first.id);
    expect(await engine.store.list({ objectKey: 'thing/o2' })).toHaveLength(1);
    await finished(first.id);
  });

  it('ignores a duplicate or stale step result', async () => {
    const run = await engine.driver.start('test-chain', { objectId: 'o3' }, { objectType: 'thing', objectId: 'o3' });
    const ended = await finished(run.id);
    const before = await engine.store.detail(run.id);
    const firstJob = must(must(before, 'before').steps[0], 'before!.steps[0]').jobId;
    expect(await engine.driver.deliverResult(run.id, firstJob, 'a', { output: { again: true } })).toBe('stale');
    const after = await engine.store.detail(run.id);
    expect(must(after, 'after').seq).toBe(ended.seq);
    expect(must(after, 'after').log).toHaveLength(must(before, 'before').log.length);
  });

  it('a result for a step the run has moved past changes nothing while the run goes on', async () => {
    const run = await engine.driver.start(
      'test-chain',
      { objectId: 'o4', stepMs: 200 },
      { objectType: 'thing', objectId: 'o4' },
    );
    await waitFor(
      'step b to start',
      async () => must(await engine.store.get(run.id), '(await engine.store.get(run.id))').pending[0]?.stepId === 'b',
    );
    const current = must(await engine.store.get(run.id), '(await engine.store.get(run.id))');
    expect(await engine.driver.deliverResult(run.id, `${run.id}-1-a`, 'a', { output: null })).toBe('stale');
    expect(must(await engine.store.get(run.id), '(await engine.store.get(run.id))').seq).toBe(current.seq);
    expect((await finished(run.id)).status).toBe('succeeded');
  });

  it('repairs a crash between persist and enqueue with exactly one job', async () => {
    await engine.stop();
    engine = await startEngine({ runWorkers: false });
    const crashingQueue = new Proxy(engine.queue, {
      get(target, property, receiver) {
        if (property === 'add')
          return async () => {
            throw new Error('engine killed before enqueue');
          };
        return Reflect.get(target, property, receiver) as unknown;
      },
    }) as Queue<StepJobData>;
    const crashing = new RunDriver({
      store: engine.store,
      queue: crashingQueue,
      lifecycles: [chainLifecycle as never],
    });
    const started = await crashing
      .start('test-chain', { objectId: 'o5' }, { objectType: 'thing', objectId: 'o5' })
      .catch((e: Error) => e);
    expect(started).toBeInstanceOf(Error);
    const [runId] = await engine.store.activeRunIds();
    expect(await engine.queue.getJobCounts('waiting', 'active', 'delayed')).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
    });

    const report = await engine.reconciler.reconcile();
    expect(report.requeued).toBe(1);
    expect((await engine.reconciler.reconcile()).requeued).toBe(0);
    expect(await engine.queue.getJobCounts('waiting')).toEqual({ waiting: 1 });

    await engine.stop();
    engine = await startEngine();
    expect((await finished(must(runId, 'runId'))).status).toBe('succeeded');
    expect((await calls(client, runId)).map((call) => call.name)).toEqual(['a', 'b', 'c']);
  });

  it('a job fetched before the transition that started it is written waits for it, spends no attempt, and runs the step the run holds', async () => {
    const run = await engine.driver.start(
      'test-chain',
      { objectId: 'o12', stepMs: 400 },
      { objectType: 'thing', objectId: 'o12' },
    );
    await waitFor('a to start', async () => (await calls(client, run.id)).length === 1);
    // The job step b will get once a is done, added early and with other data, as a transition racing another would.
    const early = `${run.id}-2-b`;
    await engine.queue.add(
      'test.step',
      { runId: run.id, stepId: 'b', src: 'test.step', seq: 2, input: { name: 'forged', objectId: 'o12' } },
      { jobId: early },
    );
    await waitFor('the early job to be put back to wait', async () => (await engine.queue.getJob(early))?.isDelayed());
    expect(must(await engine.store.get(run.id), '(await engine.store.get(run.id))').seq).toBe(1);
    expect((await finished(run.id)).status).toBe('succeeded');
    expect((await calls(client, run.id)).map((call) => `${call.name}#${call.attempt}`)).toEqual(['a#1', 'b#1', 'c#1']);
    const b = must(
      must(await engine.store.detail(run.id), '(await engine.store.detail(run.id))').steps.find(
        (step) => step.stepId === 'b',
      ),
      '(await engine.store.detail(run.id))!.steps.find((step) =>...',
    );
    expect(b.jobId).toBe(early);
    expect(b.attempts.map((attempt) => attempt.attempt)).toEqual([1]);
  });

  it('drops a job whose run moved past its sequence without it', async () => {
    const run = await engine.driver.start(
      'test-chain',
      { objectId: 'o13', stepMs: 300 },
      { objectType: 'thing', objectId: 'o13' },
    );
    await waitFor(
      'step c to be pending',
      async () => must(await engine.store.get(run.id), '(await engine.store.get(run.id))').pending[0]?.stepId === 'c',
    );
    const stray = `${run.id}-2-c`;
    await engine.queue.add(
      'test.step',
      { runId: run.id, stepId: 'c', src: 'test.step', seq: 2, input: { name: 'stray', objectId: 'o13' } },
      { jobId: stray },
    );
    await waitFor('the stray job to be dropped', async () => (await engine.queue.getJob(stray))?.isCompleted());
    expect(must(await engine.queue.getJob(stray), '(await engine.queue.getJob(stray))').returnvalue).toBeNull();
    expect((await finished(run.id)).status).toBe('succeeded');
    expect((await calls(client, run.id)).map((call) => call.name)).toEqual(['a', 'b', 'c']);
  });

  it('a step whose result could not be written has completed its job, and the reconciler applies the output', async () => {
    const store = engine.store;
    const persist = store.persist.bind(store);
    let failed = 0;
    store.persist = async (run, update, attempt) => {
      if (update.log.stepId === 'b' && failed === 0) {
        failed += 1;
        throw new Error('connection lost while writing the transition');
      }
      return persist(run, update, attempt);
    };
    const run = await engine.driver.start('test-chain', { objectId: 'o14' }, { objectType: 'thing', objectId: 'o14' });
    const jobB = `${run.id}-2-b`;
    await waitFor('b to complete its job', async () => (await engine.queue.getJob(jobB))?.isCompleted());
    await engine.driver.settle();
    expect(failed).toBe(1);
    expect(
      must(await engine.store.get(run.id), '(await engine.store.get(run.id))').pending.map((step) => step.jobId),
    ).toEqual([jobB]);

    expect((await engine.reconciler.reconcile()).delivered).toBe(1);
    const ended = await finished(run.id);
    expect(ended.status).toBe('succeeded');
    expect((await calls(client, run.id)).map((call) => call.name)).toEqual(['a', 'b', 'c']);
    expect((ended.state.context as { results: Record<string, unknown> }).results.b).toEqual({ name: 'b', at: 1 });
    const b = must(
      must(await engine.store.detail(run.id), '(await engine.store.detail(run.id))').steps.find(
        (step) => step.stepId === 'b',
      ),
      '(await engine.store.detail(run.id))!.steps.find((step) =>...',
    );
    expect(b).toMatchObject({ jobId: jobB, status: 'succeeded' });
    expect(b.attempts.map((attempt) => attempt.outcome)).toEqual(['succeeded']);
  });

  it.each([
    ['taken up from memory, it is stopped', true],
    ['with the in-memory run cache off, it is dropped at take-up', false],
  ])('a step of a run another engine ended since this one wrote it has no effect: %s', async (_, liveRunCache) => {
    const started: string[] = [];
    const effects: string[] = [];
    const step = (async (input: { name: string }, context: StepContext) => {
      started.push(input.name);
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, 400);
        context.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            reject(context.signal.reason as Error);
          },
          { once: true },
        );
      });
      effects.push(input.name);
      return { name: input.name };
    }) as never;
    await engine.stop();
    engine = await startEngine({ handlers: { 'test.step': step, 'test.undo': step }, liveRunCache });
    const run = await engine.driver.start('test-chain', { objectId: 'o18' }, { objectType: 'thing', objectId: 'o18' });
    await waitFor('a to start', async () => started.includes('a'));
    await engine.queue.pause();
    await waitFor(
      'b to be pending',
      async () => must(await engine.store.get(run.id), '(await engine.store.get(run.id))').pending[0]?.stepId === 'b',
    );
    // A newer engine, whose test-chain machine is another version, takes a CANCEL and fails the run.
    const newer = new RunDriver({
      store: engine.store,
      queue: engine.queue,
      lifecycles: [defineLifecycle({ ...chainLifecycle.spec, version: 2 }) as never],
    });
    expect(await newer.cancel(run.id, 'carol')).toBe('applied');
    expect(await engine.store.get(run.id)).toMatchObject({
      status: 'failed',
      error: { code: 'MACHINE_VERSION_UNSUPPORTED' },
    });
    await engine.queue.resume();
    const jobB = `${run.id}-2-b`;
    await waitFor('b to be taken up and stopped', async () => (await engine.queue.getJob(jobB))?.isCompleted());
    expect(started).toEqual(liveRunCache ? ['a', 'b'] : ['a']);
    expect(effects).toEqual(['a']);
    expect(must(await engine.queue.getJob(jobB), '(await engine.queue.getJob(jobB))').returnvalue).toBeNull();
    expect(
      must(await engine.store.detail(run.id), '(await engine.store.detail(run.id))').steps.map((s) => s.stepId),
    ).toEqual(['a']);
  });

  it('a handler that changes its input changes nothing in the run', async () => {
    await engine.stop();
    const sharing = defineLifecycle({
      kind: 'test-sharing',
      version: 1,
      description: 'y and z get what x returned',
      steps: [
        { id: 'x', src: 'test.make', input: () => ({}) },
        { id: 'y', src: 'test.meddle', input: (c) => ({ fromX: c.results.x }) },
        { id: 'z', src: 'test.echo', input: (c) => ({ fromX: c.results.x }) },
      ],
    });
    engine = await startEngine({
      lifecycles: [sharing as never],
      handlers: {
        'test.make': (async () => ({ n: 1 })) as never,
        'test.meddle': (async (input: { fromX: { n: number } }) => {
          input.fromX.n = 99;
          return null;
        }) as never,
        'test.echo': (async (input: unknown) => input) as never,
      },
    });
    const run = await engine.driver.start('test-sharing', {}, { objectType: 'thing', objectId: 'o17' });
    const ended = await finished(run.id);
    expect(ended.status).toBe('succeeded');
    expect((ended.state.context as { results: Record<string, unknown> }).results).toEqual({
      x: { n: 1 },
      y: null,
      z: { fromX: { n: 1 } },
    });
  });

  it('retries transient errors with backoff, keeping the operation id of the step', async () => {
    const run = await engine.driver.start(
      'test-chain',
      { objectId: 'o6', flaky: { b: 3 } },
      { objectType: 'thing', objectId: 'o6' },
    );
    expect((await finished(run.id)).status).toBe('succeeded');
    const bCalls = (await calls(client, run.id)).filter((call) => call.name === 'b');
    expect(bCalls.map((call) => call.attempt)).toEqual([1, 2, 3, 4]);
    expect(new Set(bCalls.map((call) => call.operationId)).size).toBe(1);
    const detail = must(await engine.store.detail(run.id), '(await engine.store.detail(run.id))');
    const b = must(
      detail.steps.find((step) => step.stepId === 'b'),
      "detail.steps.find((step) => step.stepId === 'b')",
    );
    expect(b.attempts.map((attempt) => attempt.outcome)).toEqual(['retrying', 'retrying', 'retrying', 'succeeded']);
    expect(must(b.attempts[0], 'b.attempts[0]').error).toMatchObject({ code: 'HOST_UNREACHABLE' });
    expect(await client.smembers(`test:effects:${run.id}`)).toHaveLength(3);
  });

  it('a failed attempt records as its retryAt the time BullMQ retries it, and the step runs again no sooner', async () => {
    await engine.stop();
    engine = await startEngine({ retry: { initialDelayMs: 800, maxDelayMs: 4_000, jitter: 0.5, deadlineMs: 60_000 } });
    const run = await engine.driver.start(
      'test-chain',
      { objectId: 'o19', flaky: { b: 2 } },
      { objectType: 'thing', objectId: 'o19' },
    );
    const jobB = `${run.id}-2-b`;
    // While b waits for each retry: the delay BullMQ waits, the time it moves the job back (from the job's score in
    // the delayed set) and a time after it had done so.
    const waits: { delay: number; dueAt: number; seenAt: number }[] = [];
    for (const failed of [1, 2]) {
      waits.push(
        await waitFor(
          `b to wait after attempt ${failed}`,
          async () => {
            const job = await engine.queue.getJob(jobB);
            if (job?.attemptsMade !== failed || !(await job.isDelayed())) return null;
            const score = await client.zscore(`${QUEUE_PREFIX}:${STEP_QUEUE}:delayed`, jobB);
            return score === null
              ? null
              : { delay: job.delay, dueAt: Math.floor(Number(score) / 0x1000), seenAt: Date.now() };
          },
          10_000,
          20,
        ),
      );
    }
    expect((await finished(run.id)).status).toBe('succeeded');
    const attempts = (await engine.store.detail(run.id))?.steps.find((step) => step.stepId === 'b')?.attempts ?? [];
    expect(attempts.map((attempt) => attempt.outcome)).toEqual(['retrying', 'retrying', 'succeeded']);
    waits.forEach((wait, i) => {
      const [failed, next] = [attempts[i], attempts[i + 1]];
      const retryAt = Date.parse(failed?.retryAt ?? '');
      // The delay recorded is the one BullMQ waits, jittered (the ceilings are 800 and 1600 ms, the jitter 50%) ...
      expect(retryAt - Date.parse(failed?.endedAt ?? '')).toBe(wait.delay);
      expect(wait.delay).toBeGreaterThanOrEqual(400 * 2 ** i);
      expect(wait.delay).toBeLessThanOrEqual(800 * 2 ** i);
      // ... counted from when the attempt ended, which is before BullMQ moved the job, which is before it was seen
      // waiting; and the next attempt starts once it is due.
      expect(retryAt).toBeLessThanOrEqual(wait.dueAt);
      expect(wait.dueAt - wait.delay).toBeLessThanOrEqual(wait.seenAt);
      expect(Date.parse(next?.startedAt ?? '')).toBeGreaterThanOrEqual(wait.dueAt);
    });
  });

  it('fails at once on a permanent error and takes the failure path with the message, action and output', async () => {
    const run = await engine.driver.start(
      'test-chain',
      { objectId: 'o7', failAt: ['c'] },
      { objectType: 'thing', objectId: 'o7' },
    );
    const ended = await finished(run.id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({
      code: 'PLUGIN_USER_ERROR',
      message: 'c failed',
      action: 'fix it',
      output: 'details',
    });
    expect((await calls(client, run.id)).map((call) => `${call.name}#${call.attempt}`)).toEqual([
      'a#1',
      'b#1',
      'c#1',
      'unB#1',
      'markFailed#1',
    ]);
    expect(await client.exists(keys.lock('thing/o7'))).toBe(0);
  });

  it('gives up on a transient error at the step deadline and fails cleanly', async () => {
    await engine.stop();
    engine = await startEngine({ retry: { initialDelayMs: 50, maxDelayMs: 100, deadlineMs: 600 } });
    const run = await engine.driver.start(
      'test-chain',
      { objectId: 'o8', flaky: { b: 1000 } },
      { objectType: 'thing', objectId: 'o8' },
    );
    const ended = await finished(run.id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({ code: 'STEP_DEADLINE_EXCEEDED' });
    expect(must(ended.error, 'ended.error').message).toMatch(/Step b kept failing for \d+ s: b is flaky/);
    expect((await calls(client, run.id)).map((call) => call.name).slice(-2)).toEqual(['unB', 'markFailed']);
  });

  it('cancels a run whose step waits for a retry: the step is withdrawn and the run undoes and ends cancelled', async () => {
    await engine.stop();
    engine = await startEngine({ retry: { initialDelayMs: 3_000, maxDelayMs: 3_000, deadlineMs: 60_000 } });
    const run = await engine.driver.start(
      'test-chain',
      { objectId: 'o9', flaky: { b: 1000 } },
      { objectType: 'thing', objectId: 'o9' },
    );
    await waitFor('b to wait for its retry', async () => (await engine.queue.getJobCounts('delayed')).delayed === 1);
    expect(await engine.driver.cancel(run.id, 'bob')).toBe('applied');
    const ended = await finished(run.id);
    expect(ended.status).toBe('cancelled');
    expect(ended.error).toMatchObject({ code: 'RUN_CANCELLED' });
    expect((await calls(client, run.id)).map((call) => call.name)).toEqual(['a', 'b', 'unB', 'markFailed']);
    const detail = must(await engine.store.detail(run.id), '(await engine.store.detail(run.id))');
    expect(detail.log.find((entry) => entry.event === 'CANCEL')).toMatchObject({ actor: 'bob' });
  });

  it('fails a run started by a machine version it cannot resume, and releases its lock', async () => {
    await engine.stop();
    const oldChain = defineLifecycle({ ...chainLifecycle.spec, version: 0 });
    engine = await startEngine({ runWorkers: false, lifecycles: [oldChain as never] });
    const run = await engine.driver.start('test-chain', { objectId: 'o10' }, { objectType: 'thing', objectId: 'o10' });
    await engine.stop();
    engine = await startEngine();
    const ended = await finished(run.id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({ code: 'MACHINE_VERSION_UNSUPPORTED' });
    expect(await client.exists(keys.lock('thing/o10'))).toBe(0);
  });

  it('lets a running step finish on a graceful stop', async () => {
    const run = await engine.driver.start(
      'test-chain',
      { objectId: 'o11', stepMs: 700 },
      { objectType: 'thing', objectId: 'o11' },
    );
    await waitFor('a to start', async () => (await calls(client, run.id)).length === 1);
    await engine.stop({ deadlineMs: 10_000 });
    engine = await startEngine({ runWorkers: false });
    const detail = must(await engine.store.detail(run.id), '(await engine.store.detail(run.id))');
    expect(detail.steps).toHaveLength(1);
    expect(detail.steps[0]).toMatchObject({ stepId: 'a', status: 'succeeded' });
    expect(detail.pending.map((step) => step.stepId)).toEqual(['b']);
    await engine.stop();
    engine = await startEngine();
    expect((await finished(run.id)).status).toBe('succeeded');
  });
});
