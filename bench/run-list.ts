// Listing runs by kind and status with 100k runs in Redis: the kind and status indexes (RunStore.list) against the
// client-side filter the store used before (walk every run newest first, read each hash, keep the matching ones),
// same Redis, same runs, same run. Also the one-off cost of indexing 100k runs written before the indexes existed.
import type { Redis } from 'ioredis';
import { keys, objectKey } from '../model/keys.js';
import type { RunStatus } from '../model/run-record.js';
import { RunStore, type RunQuery } from '../model/run-store.js';
import { startRedisServer } from '../test/harness/redis-server.js';
import { round, summarize, timeEach } from './lib/stats.js';
import { statusFromMix } from './lib/status-mix.js';

const RUNS = Number(process.env.DVX_BENCH_RUNS ?? 100_000);
const OBJECTS = 1_000;
const PAGE = 50;
/** The indexed listing is fast enough to sample many times; the client-side filter reads up to every run per call. */
const INDEXED_SAMPLES = 50;
const CLIENT_SIDE_SAMPLES = 7;
/** Calls of each kind not counted, before each case: both sides are measured with their code compiled by the JIT. */
const WARMUP = 2;
const KINDS = ['provision', 'refresh', 'snapshot', 'link', 'delete'];
/** Run statuses as they pile up in a long-lived engine: most runs have ended, a few run, few are cancelled. */
const STATUS_MIX: [RunStatus, number][] = [
  ['succeeded', 0.8],
  ['failed', 0.15],
  ['cancelled', 0.03],
  ['running', 0.02],
];

const statusOf = (i: number) => statusFromMix(i, STATUS_MIX);

/** The previous RunStore.list (ids only): pages of every run (or of an object's runs), newest first, filtered on the client. */
async function listOnClient(redis: Redis, query: RunQuery): Promise<string[]> {
  const limit = query.limit ?? 50;
  const index = query.objectKey ? keys.objectRuns(query.objectKey) : keys.runs();
  const found: string[] = [];
  const page = Math.max(limit * 2, 100);
  for (let start = 0; found.length < limit; start += page) {
    const ids = await redis.zrevrange(index, start, start + page - 1);
    if (ids.length === 0) break;
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.run(id));
    for (const [error, hash] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      const fields = hash as Record<string, string>;
      if (!fields.id) continue;
      if (query.kind && fields.kind !== query.kind) continue;
      if (query.status && fields.status !== query.status) continue;
      found.push(fields.id);
      if (found.length >= limit) break;
    }
  }
  return found;
}

async function createRuns(store: RunStore): Promise<number> {
  const start = performance.now();
  const inFlight = 2_000;
  for (let batch = 0; batch < RUNS; batch += inFlight) {
    await Promise.all(
      Array.from({ length: Math.min(inFlight, RUNS - batch) }, (_, j) => {
        const i = batch + j;
        return store.create({
          id: `run-${String(i).padStart(7, '0')}`,
          kind: KINDS[i % KINDS.length] ?? 'provision',
          machineVersion: 1,
          status: statusOf(i),
          state: { value: 'done', context: {} },
          pending: [],
          objectType: 'vdb',
          objectId: `vdb-${i % OBJECTS}`,
          locks: [],
          requestedBy: 'bench',
          log: {
            seq: 1,
            at: new Date().toISOString(),
            event: 'xstate.init',
            from: null,
            to: 'done',
            started: [],
            actor: 'bench',
          },
        });
      }),
    );
  }
  return performance.now() - start;
}

export default async function runList() {
  const redis = await startRedisServer();
  const client = redis.client();
  try {
    const store = new RunStore(client);
    const createMs = await createRuns(store);
    await store.ensureIndexes();

    const cases: { name: string; query: RunQuery }[] = [
      { name: 'kind+status, common (refresh, succeeded)', query: { kind: 'refresh', status: 'succeeded' } },
      { name: 'kind+status, rare (delete, running)', query: { kind: 'delete', status: 'running' } },
      { name: 'status, rare (running)', query: { status: 'running' } },
      { name: 'kind (snapshot)', query: { kind: 'snapshot' } },
      { name: 'object+status (vdb/vdb-7, failed)', query: { objectKey: objectKey('vdb', 'vdb-7'), status: 'failed' } },
    ];
    const results = [];
    for (const { name, query } of cases) {
      const paged = { ...query, limit: PAGE };
      const indexedIds = (await store.list(paged)).map((run) => run.id);
      const clientIds = await listOnClient(client, paged);
      if (JSON.stringify(indexedIds) !== JSON.stringify(clientIds))
        throw new Error(`${name}: the indexed listing and the client-side filter disagree`);
      const matching = (await store.list({ ...query, limit: RUNS })).length;
      await timeEach(WARMUP, () => Promise.all([store.list(paged), listOnClient(client, paged)]));
      const indexed = summarize(await timeEach(INDEXED_SAMPLES, () => store.list(paged)));
      const clientSide = summarize(await timeEach(CLIENT_SIDE_SAMPLES, () => listOnClient(client, paged)));
      results.push({
        name,
        query,
        matching,
        returned: indexedIds.length,
        indexedMs: indexed,
        clientSideFilterMs: clientSide,
        speedup: round(clientSide.p50 / indexed.p50, 1),
      });
    }
    await timeEach(WARMUP, () => store.list({ limit: PAGE }));
    const unfilteredPageMs = summarize(await timeEach(INDEXED_SAMPLES, () => store.list({ limit: PAGE })));
    const deepPageMs = summarize(
      await timeEach(INDEXED_SAMPLES, () =>
        store.list({ kind: 'refresh', status: 'succeeded', limit: PAGE, offset: 10_000 }),
      ),
    );

    // Runs written before the indexes: drop them and time the one-off indexing a first listing does.
    const indexKeys = [
      ...KINDS.map((kind) => keys.runsByKind(kind)),
      ...STATUS_MIX.flatMap(([status]) => [
        keys.runsByStatus(status),
        ...KINDS.map((kind) => keys.runsByKindAndStatus(kind, status)),
      ]),
    ];
    await client.del(keys.runIndexes(), ...indexKeys);
    const backfillStart = performance.now();
    await new RunStore(client).ensureIndexes();
    const backfillMs = performance.now() - backfillStart;
    const afterBackfill = (await store.list({ kind: 'delete', status: 'running', limit: PAGE })).map((run) => run.id);
    if (
      JSON.stringify(afterBackfill) !==
      JSON.stringify(await listOnClient(client, { kind: 'delete', status: 'running', limit: PAGE }))
    ) {
      throw new Error('the backfilled indexes disagree with the client-side filter');
    }

    const slowest = results.reduce((worst, result) => (result.indexedMs.p50 > worst.indexedMs.p50 ? result : worst));
    return {
      runs: RUNS,
      objects: OBJECTS,
      page: PAGE,
      createRunsMs: round(createMs, 0),
      cases: results,
      unfilteredPageMs,
      deepPageMs: { query: { kind: 'refresh', status: 'succeeded', offset: 10_000 }, ...deepPageMs },
      backfillMs: round(backfillMs, 0),
      note: `${RUNS} runs: median page by kind and status ${round(slowest.indexedMs.p50, 2)} ms at worst (${slowest.name}; client-side filter ${round(slowest.clientSideFilterMs.p50, 1)} ms), unfiltered page ${round(unfilteredPageMs.p50, 2)} ms; indexing ${RUNS} runs written before the indexes took ${round(backfillMs / 1000, 1)} s once`,
    };
  } finally {
    client.disconnect();
    await redis.remove();
  }
}
