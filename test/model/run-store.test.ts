import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keys, objectKey } from '../../model/keys.js';
import type { PendingStep, RunRecord, RunStatus, StepAttempt, TransitionLogEntry } from '../../model/run-record.js';
import { RunStore, type RunQuery, type StepMeta } from '../../model/run-store.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
});
afterAll(async () => redis.remove());
beforeEach(async () => client.flushall());

const KINDS = ['provision', 'refresh', 'snapshot'];
const STATUSES: RunStatus[] = ['running', 'succeeded', 'failed', 'cancelled'];

const logEntry = (seq: number): TransitionLogEntry => ({
  seq,
  at: new Date().toISOString(),
  event: seq === 1 ? 'xstate.init' : 'x',
  from: null,
  to: 'a',
  started: [],
  actor: 'engine',
});
const step = (runId: string, seq: number, stepId: string, input: unknown = {}): PendingStep => ({
  stepId,
  src: 'test.step',
  jobId: `${runId}-${seq}-${stepId}`,
  seq,
  input,
});

function newRun(id: string, kind: string, object: string, status: RunStatus = 'running', pending: PendingStep[] = []) {
  return {
    id,
    kind,
    machineVersion: 1,
    status,
    state: { value: 'a', context: {} },
    pending,
    objectType: 'thing',
    objectId: object,
    locks: [],
    requestedBy: 'alice',
    log: logEntry(1),
  };
}

/** Moves a run to `status` as the driver would: a compare-and-set on its sequence. */
async function move(
  store: RunStore,
  run: RunRecord,
  status: RunStatus,
  pending: PendingStep[] = [],
): Promise<RunRecord> {
  expect(
    await store.persist(run, {
      expectedSeq: run.seq,
      seq: run.seq + 1,
      status,
      state: run.state,
      pending,
      log: logEntry(run.seq + 1),
    }),
  ).toBe(true);
  const moved = await store.get(run.id);
  if (!moved) throw new Error(`run ${run.id} is gone`);
  return moved;
}

interface Listed {
  id: string;
  kind: string;
  status: RunStatus;
  object: string;
  createdAt: string;
}

/** Newest first; runs of the same millisecond by id, highest first (as Redis orders equal scores). */
const newestFirst = (a: Listed, b: Listed) =>
  b.createdAt.localeCompare(a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

async function everyPage(store: RunStore, query: RunQuery, limit: number): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; ; offset += limit) {
    const page = await store.list({ ...query, limit, offset });
    expect(page.length).toBeLessThanOrEqual(limit);
    ids.push(...page.map((run) => run.id));
    if (page.length < limit) return ids;
  }
}

/** Every filter combination list() takes, each checked page by page against the expected runs in order. */
async function expectListings(store: RunStore, runs: Listed[], objects: string[], limit: number): Promise<number> {
  const sorted = [...runs].sort(newestFirst);
  const queries: RunQuery[] = [{}];
  for (const kind of KINDS) queries.push({ kind }, ...STATUSES.map((status) => ({ kind, status })));
  for (const status of STATUSES) queries.push({ status });
  for (const object of objects)
    queries.push(
      { objectKey: object },
      { objectKey: object, status: 'running' },
      { objectKey: object, kind: 'refresh' },
      { objectKey: object, kind: 'snapshot', status: 'failed' },
    );
  let checked = 0;
  for (const query of queries) {
    const expected = sorted
      .filter(
        (run) =>
          (query.kind === undefined || run.kind === query.kind) &&
          (query.status === undefined || run.status === query.status) &&
          (query.objectKey === undefined || run.object === query.objectKey),
      )
      .map((run) => run.id);
    expect({ query, ids: await everyPage(store, query, limit) }).toEqual({ query, ids: expected });
    checked += expected.length;
  }
  return checked;
}

describe('run listing', () => {
  it('filters thousands of runs by kind, status and object in Redis, newest first, page by page', async () => {
    const store = new RunStore(client);
    const objects = Array.from({ length: 7 }, (_, i) => objectKey('thing', `o${i}`));
    const runs: Listed[] = [];
    const count = 3_000;
    for (let batch = 0; batch < count; batch += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, count - batch) }, async (_, j) => {
          const i = batch + j;
          const id = `run-${String(i).padStart(5, '0')}`;
          const kind = KINDS[i % KINDS.length] ?? 'provision';
          const object = `o${i % objects.length}`;
          // Some runs are created already ended (a refused request); the others move on from running.
          let run = await store.create(newRun(id, kind, object, i % 10 === 9 ? 'failed' : 'running'));
          const target = i % 10 === 9 ? 'failed' : (STATUSES[i % STATUSES.length] ?? 'running');
          if (run.status !== target) run = await move(store, run, target);
          runs.push({ id, kind, status: run.status, object: objectKey('thing', object), createdAt: run.createdAt });
        }),
      );
    }
    expect(new Set(runs.map((run) => run.createdAt)).size).toBeGreaterThan(1);
    expect(runs.filter((run) => run.status === 'running').length).toBeGreaterThan(500);
    expect(await expectListings(store, runs, objects, 97)).toBeGreaterThan(count);

    // A run that ends leaves the running indexes and joins those of its new status.
    const running = runs.find((run) => run.kind === 'snapshot' && run.status === 'running');
    if (!running) throw new Error('no running snapshot run');
    const stored = await store.get(running.id);
    if (!stored) throw new Error(`run ${running.id} is gone`);
    await move(store, stored, 'cancelled');
    running.status = 'cancelled';
    expect(await expectListings(store, runs, objects.slice(0, 1), 500)).toBeGreaterThan(count);
    expect(
      (await store.list({ kind: 'snapshot', status: 'cancelled', limit: 5000 })).some((run) => run.id === running.id),
    ).toBe(true);
    expect(
      (await store.list({ kind: 'snapshot', status: 'running', limit: 5000 })).some((run) => run.id === running.id),
    ).toBe(false);
    expect(await store.list({ kind: 'no-such-kind' })).toEqual([]);
    expect(await store.list({ limit: 0 })).toEqual([]);
  });

  it('indexes runs written before the kind and status indexes existed, once, and keeps them right as they move', async () => {
    const objects = [objectKey('thing', 'old')];
    const runs: Listed[] = [];
    for (let i = 0; i < 300; i += 1) {
      const id = `run-old-${String(i).padStart(4, '0')}`;
      const kind = KINDS[i % KINDS.length] ?? 'provision';
      const status = STATUSES[i % STATUSES.length] ?? 'running';
      const createdAt = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
      await writeLegacyRun({ id, kind, status, object: 'old', createdAt, pending: [] });
      runs.push({ id, kind, status, object: objects[0] ?? '', createdAt });
    }
    // One of them moves on before anything lists runs.
    const store = new RunStore(client);
    const first = runs.find((run) => run.status === 'running' && run.kind === 'refresh');
    const firstRecord = first ? await store.get(first.id) : null;
    if (!first || !firstRecord) throw new Error('no running refresh run');
    await move(store, firstRecord, 'succeeded');
    first.status = 'succeeded';

    expect(await client.get(keys.runIndexes())).toBeNull();
    await expectListings(store, runs, objects, 40);
    expect(await client.get(keys.runIndexes())).toBe('1');

    // After the backfill, new runs and moves keep the indexes without it; a second store does not redo it.
    const fresh = await store.create(newRun('run-new-0001', 'refresh', 'old'));
    runs.push({
      id: fresh.id,
      kind: 'refresh',
      status: 'running',
      object: objects[0] ?? '',
      createdAt: fresh.createdAt,
    });
    const second = runs.find((run) => run.status === 'running' && run.kind === 'provision');
    const secondRecord = second ? await store.get(second.id) : null;
    if (!second || !secondRecord) throw new Error('no running provision run');
    await move(store, secondRecord, 'failed');
    second.status = 'failed';
    await expectListings(new RunStore(client), runs, objects, 40);
    // The backfill runs once per Redis (an index dropped behind its back stays empty)...
    await client.del(keys.runsByKind('snapshot'));
    expect(await new RunStore(client).list({ kind: 'snapshot' })).toEqual([]);
    // ...and running it again over indexed runs changes nothing but what is missing.
    await client.del(keys.runIndexes());
    await expectListings(new RunStore(client), runs, objects, 40);
  });
});

describe('taking up a step', () => {
  const meta = (pending: PendingStep): StepMeta => ({
    stepId: pending.stepId,
    src: pending.src,
    jobId: pending.jobId,
    operationId: pending.jobId,
    seq: pending.seq,
    startedAt: new Date().toISOString(),
  });
  const attempt: StepAttempt = { attempt: 1, startedAt: new Date().toISOString() };

  it("finds the job among the run's pending job ids exactly, not in the text of their inputs", async () => {
    const store = new RunStore(client);
    const runId = 'run-exact';
    const a = step(runId, 1, 'a', { note: 'the next job', jobId: `${runId}-1-b` });
    const decoy = step(runId, 1, 'b');
    let run = await store.create(newRun(runId, 'provision', 'o1', 'running', [a]));
    expect(await store.beginStep(runId, decoy.jobId, meta(decoy), attempt)).toEqual({ status: 'stale' });
    expect(await store.recordStepStart(runId, decoy.jobId, meta(decoy), attempt)).toBe('stale');
    expect(await store.beginStep(runId, a.jobId, meta(a), attempt)).toMatchObject({
      status: 'ready',
      run: { id: runId, pending: [a] },
    });

    const c = step(runId, 2, 'c');
    run = await move(store, run, 'running', [c]);
    expect(await store.recordStepStart(runId, a.jobId, meta(a), attempt)).toBe('stale');
    expect(await store.recordStepStart(runId, c.jobId, meta(c), attempt)).toBe('recorded');
    const later = step(runId, 5, 'd');
    expect(await store.beginStep(runId, later.jobId, meta(later), attempt)).toEqual({ status: 'ahead' });
    await move(store, run, 'succeeded');
    expect(await client.exists(keys.runPending(runId))).toBe(0);
    expect(await store.beginStep(runId, c.jobId, meta(c), attempt)).toEqual({ status: 'stale' });
    expect((await store.detail(runId))?.steps.map((execution) => execution.jobId)).toEqual([a.jobId, c.jobId]);
  });

  it('reads the pending steps of a run written before the pending set existed, exactly too', async () => {
    const store = new RunStore(client);
    const runId = 'run-legacy';
    const a = step(runId, 3, 'a', { jobId: `${runId}-3-b` });
    const b = step(runId, 3, 'b');
    await writeLegacyRun({
      id: runId,
      kind: 'refresh',
      status: 'running',
      object: 'o2',
      createdAt: new Date().toISOString(),
      pending: [a],
      seq: 3,
    });
    expect(await store.beginStep(runId, b.jobId, meta(b), attempt)).toEqual({ status: 'stale' });
    expect(await store.beginStep(runId, a.jobId, meta(a), attempt)).toMatchObject({
      status: 'ready',
      run: { id: runId, seq: 3 },
    });
    const run = await store.get(runId);
    if (!run) throw new Error('legacy run is gone');
    await move(store, run, 'running', [b]);
    expect(await client.smembers(keys.runPending(runId))).toEqual([b.jobId]);
    expect(await store.recordStepStart(runId, b.jobId, meta(b), attempt)).toBe('recorded');
    expect(await store.recordStepStart(runId, a.jobId, meta(a), attempt)).toBe('stale');
  });
});

describe('Redis scripts', () => {
  const dir = join(import.meta.dirname, '..', '..', 'model', 'lua');
  const scripts = readdirSync(dir).filter((name) => name.endsWith('.lua'));

  it('each opens with what its KEYS, ARGV and reply mean, and compiles in Redis', async () => {
    expect(scripts.length).toBeGreaterThanOrEqual(7);
    for (const name of scripts) {
      const text = readFileSync(join(dir, name), 'utf8');
      const header = /^--\[\[\n([\s\S]*?)\n\]\]\n/.exec(text)?.[1] ?? '';
      expect({ name, documents: ['KEYS[1]', 'ARGV[1]', 'Output:'].filter((part) => header.includes(part)) }).toEqual({
        name,
        documents: ['KEYS[1]', 'ARGV[1]', 'Output:'],
      });
      for (const used of new Set(text.slice(header.length).match(/(KEYS|ARGV)\[\d+\]/g) ?? [])) {
        expect({ name, used, documented: header.includes(used) || header.includes(`${used.slice(0, -1)}..`) }).toEqual({
          name,
          used,
          documented: true,
        });
      }
      expect(await client.script('LOAD', text)).toMatch(/^[0-9a-f]{40}$/);
    }
  });
});

/** A run as the previous version of the store wrote it: no pending set, no kind or status index, no layout field. */
async function writeLegacyRun(run: {
  id: string;
  kind: string;
  status: RunStatus;
  object: string;
  createdAt: string;
  pending: PendingStep[];
  seq?: number;
}): Promise<void> {
  const fields: Record<string, string> = {
    id: run.id,
    kind: run.kind,
    machineVersion: '1',
    status: run.status,
    seq: String(run.seq ?? 1),
    state: JSON.stringify({ value: 'a', context: {} }),
    pending: JSON.stringify(run.pending),
    objectType: 'thing',
    objectId: run.object,
    locks: '[]',
    requestedBy: 'alice',
    createdAt: run.createdAt,
    updatedAt: run.createdAt,
  };
  if (run.status !== 'running') fields.endedAt = run.createdAt;
  const score = Date.parse(run.createdAt);
  const write = client
    .multi()
    .hset(keys.run(run.id), fields)
    .zadd(keys.runs(), score, run.id)
    .zadd(keys.objectRuns(objectKey('thing', run.object)), score, run.id)
    .rpush(keys.runLog(run.id), JSON.stringify(logEntry(1)));
  if (run.status === 'running') write.sadd(keys.activeRuns(), run.id);
  await write.exec();
}
