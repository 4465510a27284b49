import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../log/logger.js';
import { DvxModel } from '../../model/dvx-model.js';
import { keys, objectKey } from '../../model/keys.js';
import type { PendingStep, RunRecord, RunStatus, TransitionLogEntry } from '../../model/run-record.js';
import { RunStore } from '../../model/run-store.js';
import { pruneRuns, runRetentionFromEnv } from '../../services/runs.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
});
afterAll(async () => redis.remove());
beforeEach(async () => client.flushall());

const logEntry = (seq: number): TransitionLogEntry => ({
  seq,
  at: new Date().toISOString(),
  event: seq === 1 ? 'xstate.init' : 'x',
  from: null,
  to: 'a',
  started: [],
  actor: 'engine',
});

const pendingStep = (runId: string): PendingStep => ({
  stepId: 'work',
  src: 'test.step',
  jobId: `${runId}-1-work`,
  seq: 1,
  input: {},
});

/** A run that starts running on `object`, waiting for one step whose start is recorded (so it has steps and pending). */
async function startRun(store: RunStore, id: string, kind: string, object: string): Promise<RunRecord> {
  const step = pendingStep(id);
  const run = await store.create({
    id,
    kind,
    machineVersion: 1,
    status: 'running',
    state: { value: 'a', context: {} },
    pending: [step],
    objectType: 'vdb',
    objectId: object,
    locks: [],
    requestedBy: 'alice',
    log: logEntry(1),
  });
  const startedAt = new Date().toISOString();
  await store.recordStepStart(
    id,
    step.jobId,
    { stepId: step.stepId, src: step.src, jobId: step.jobId, operationId: step.jobId, seq: 1, startedAt },
    { attempt: 1, startedAt },
  );
  return run;
}

async function end(store: RunStore, run: RunRecord, status: RunStatus): Promise<void> {
  const applied = await store.persist(run, {
    expectedSeq: run.seq,
    seq: run.seq + 1,
    status,
    state: run.state,
    pending: [],
    log: logEntry(run.seq + 1),
  });
  expect(applied).toBe(true);
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** Every key of the store that names a run, and every index it is in. */
async function traces(runId: string): Promise<string[]> {
  const found = (await client.keys(`${keys.run(runId)}*`)).sort();
  for (const index of await client.keys(`${keys.runs()}*`)) {
    const type = await client.type(index);
    if (type === 'zset' && (await client.zscore(index, runId)) !== null) found.push(index);
    if (type === 'set' && (await client.sismember(index, runId)) === 1) found.push(index);
  }
  return found;
}

const ids = (runs: RunRecord[]) => runs.map((run) => run.id).sort();

describe('pruning runs', () => {
  /** Old: ended before the cutoff. New: ended after it (one created before it). Running: never ended. */
  async function fill(store: RunStore) {
    const old = {
      a: await startRun(store, 'old-a', 'provision', 'v1'),
      b: await startRun(store, 'old-b', 'refresh', 'v1'),
      c: await startRun(store, 'old-c', 'provision', 'v2'),
    };
    const runningOld = await startRun(store, 'running-old', 'refresh', 'v2');
    const endedLate = await startRun(store, 'ended-late', 'provision', 'v3');
    await end(store, old.a, 'succeeded');
    await end(store, old.b, 'failed');
    await end(store, old.c, 'cancelled');
    await tick();
    const cutoff = new Date();
    await tick();
    await end(store, endedLate, 'succeeded');
    const fresh = await startRun(store, 'new-a', 'provision', 'v1');
    await end(store, fresh, 'succeeded');
    await startRun(store, 'running-new', 'refresh', 'v1');
    return { cutoff, runningOld };
  }

  it('deletes runs that ended before the cutoff with every trace, and keeps newer and running ones listed as before', async () => {
    const store = new RunStore(client);
    const { cutoff } = await fill(store);
    expect(await traces('old-a')).toEqual(
      expect.arrayContaining([keys.run('old-a'), keys.runLog('old-a'), keys.runSteps('old-a')]),
    );

    expect(await store.prune({ endedBefore: cutoff })).toEqual({ pruned: 3, kept: 0 });

    for (const id of ['old-a', 'old-b', 'old-c']) {
      expect(await store.get(id)).toBeNull();
      expect(await store.detail(id)).toBeNull();
      expect(await traces(id)).toEqual([]);
    }
    expect(ids(await store.list())).toEqual(['ended-late', 'new-a', 'running-new', 'running-old']);
    expect(ids(await store.list({ kind: 'provision', status: 'succeeded' }))).toEqual(['ended-late', 'new-a']);
    expect(ids(await store.list({ status: 'failed' }))).toEqual([]);
    expect(ids(await store.list({ status: 'cancelled' }))).toEqual([]);
    expect(ids(await store.list({ kind: 'refresh' }))).toEqual(['running-new', 'running-old']);
    expect(ids(await store.list({ objectKey: objectKey('vdb', 'v1') }))).toEqual(['new-a', 'running-new']);
    expect((await store.activeRunIds()).sort()).toEqual(['running-new', 'running-old']);
    // What stays keeps its log and steps.
    expect((await store.detail('ended-late'))?.steps).toHaveLength(1);
    expect((await store.detail('running-old'))?.pending).toHaveLength(1);
    expect(await client.scard(keys.runPending('running-old'))).toBe(1);
  });

  it('is idempotent: a second prune deletes nothing and changes no key', async () => {
    const store = new RunStore(client);
    const { cutoff } = await fill(store);
    await store.prune({ endedBefore: cutoff });
    const before = (await client.keys('dvx:*')).sort();
    expect(await store.prune({ endedBefore: cutoff })).toEqual({ pruned: 0, kept: 0 });
    expect((await client.keys('dvx:*')).sort()).toEqual(before);
  });

  it('never deletes a running run, even one started long before the cutoff', async () => {
    const store = new RunStore(client);
    const { runningOld } = await fill(store);
    expect(await store.prune({ endedBefore: new Date(Date.now() + 60_000) })).toEqual({ pruned: 5, kept: 0 });
    expect(ids(await store.list())).toEqual(['running-new', 'running-old']);
    // It can still end, and is pruned once it has.
    await end(store, runningOld, 'succeeded');
    await tick();
    await store.prune({ endedBefore: new Date() });
    expect(ids(await store.list())).toEqual(['running-new']);
  });

  it('keeps the runs it is told to keep, and works through more runs than one batch', async () => {
    const store = new RunStore(client);
    for (let i = 0; i < 25; i += 1)
      await end(store, await startRun(store, `r-${i}`, 'snapshot', `v${i % 4}`), 'succeeded');
    await tick();
    const report = await store.prune({ endedBefore: new Date(), keep: new Set(['r-3', 'r-20']), batchSize: 4 });
    expect(report).toEqual({ pruned: 23, kept: 2 });
    expect(ids(await store.list({ kind: 'snapshot', status: 'succeeded' }))).toEqual(['r-20', 'r-3']);
  });

  it('keeps the last run a record names when the engine prunes by days', async () => {
    const model = new DvxModel(client);
    const store = model.runs;
    await end(store, await startRun(store, 'named', 'provision', 'v1'), 'failed');
    await end(store, await startRun(store, 'unnamed', 'provision', 'v1'), 'succeeded');
    await model.vdbs.create({
      id: 'v1',
      name: 'v1',
      pluginId: 'p',
      parentType: 'dsource',
      parentId: 'd',
      provisionedFromSnapshotId: 's',
      environmentId: 'e',
      repositoryId: 'r',
      parameters: {},
      sourceConfig: null,
      currentTimeflowId: null,
      mounts: null,
      ownership: null,
      status: 'FAILED',
      enabled: true,
      running: false,
      lastRunId: 'named',
      lastError: null,
    });
    const ctx = { model, logger: silentLogger };
    // Nothing ended a day ago, and 0 keeps every run.
    expect(await pruneRuns(ctx, 1)).toEqual({ pruned: 0, kept: 0 });
    expect(await pruneRuns(ctx, 0, Date.now() + 10 * 86_400_000)).toEqual({ pruned: 0, kept: 0 });
    expect(await pruneRuns(ctx, 1, Date.now() + 2 * 86_400_000)).toEqual({ pruned: 1, kept: 1 });
    expect(ids(await store.list())).toEqual(['named']);
  });
});

describe('DVX_RUN_RETENTION_DAYS', () => {
  it('is 30 days unless set, 0 when off, and refuses what is not a number of days', () => {
    expect(runRetentionFromEnv({})).toBe(30);
    expect(runRetentionFromEnv({ DVX_RUN_RETENTION_DAYS: '7' })).toBe(7);
    expect(runRetentionFromEnv({ DVX_RUN_RETENTION_DAYS: '0.5' })).toBe(0.5);
    expect(runRetentionFromEnv({ DVX_RUN_RETENTION_DAYS: 'off' })).toBe(0);
    expect(runRetentionFromEnv({ DVX_RUN_RETENTION_DAYS: '0' })).toBe(0);
    expect(() => runRetentionFromEnv({ DVX_RUN_RETENTION_DAYS: 'a month' })).toThrow(/DVX_RUN_RETENTION_DAYS/);
    expect(() => runRetentionFromEnv({ DVX_RUN_RETENTION_DAYS: '-1' })).toThrow(/DVX_RUN_RETENTION_DAYS/);
  });
});
