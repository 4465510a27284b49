// One engine with 1,000 VDBs and 100,000 finished runs in Redis: GET /vdbs and GET /runs?kind=&status= over HTTP
// (p50/p95), one health-monitor tick over the 1,000 VDBs (sequential, as the monitor checked before, against the
// bounded concurrency it checks with now, same VDBs, same run), the engine process's memory and Redis's, and the load.
// One VDB is provisioned for real (dirtree plugin, real sshd hosts, btrfs pool); the other 999 are copies of its record
// written through the model, on the same host and mount, so every health check asks the host as for a real VDB.
// DVX_BENCH_VDBS and DVX_BENCH_RUNS change the counts.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DIRTREE_TOUR_PLUGIN } from '../cli/quickstart/tour-plugins.js';
import { runBash } from '../hosts/index.js';
import { silentLogger } from '../log/logger.js';
import type { RunStatus } from '../model/run-record.js';
import type { VdbRecord } from '../model/vdb.js';
import { BindMountTransport } from '../storage/index.js';
import { startEngineFixture } from '../test/e2e/engine-fixture.js';
import { must } from '../test/harness/must.js';
import { HEALTH_MONITOR_DEFAULTS, HealthMonitor, type HealthMonitorOptions } from '../workers/health-monitor.js';
import type { StepServices } from '../workers/steps/index.js';
import { statusFromMix } from './lib/status-mix.js';
import { loadAverage } from './lib/cpu-time.js';
import { finished, installPluginWithEnvironments } from './lib/engine.js';
import { round, summarize, timeEach } from './lib/stats.js';

const VDBS = Number(process.env.DVX_BENCH_VDBS ?? 1_000);
const RUNS = Number(process.env.DVX_BENCH_RUNS ?? 100_000);
const REQUESTS = 100;
const WARMUP = 5;
const TICKS = 5;
/** The ticks that ask every VDB's plugin take a plugin process per VDB: one sample each. */
const BASELINE_TICKS = Number(process.env.DVX_BENCH_BASELINE_TICKS ?? 1);
const KINDS = ['vdb-provision', 'vdb-refresh', 'vdb-snapshot', 'vdb-enable', 'vdb-delete'];
/** Finished runs as they pile up: most succeed, some fail, few are cancelled. */
const STATUS_MIX: [RunStatus, number][] = [
  ['succeeded', 0.82],
  ['failed', 0.15],
  ['cancelled', 0.03],
];

const statusOf = (i: number) => statusFromMix(i, STATUS_MIX);

const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

function memory() {
  const usage = process.memoryUsage();
  return { rssMiB: mib(usage.rss), heapUsedMiB: mib(usage.heapUsed), heapTotalMiB: mib(usage.heapTotal) };
}

export default async function scale() {
  const load = { start: loadAverage(), afterFill: 0, end: 0 };
  const engine = await startEngineFixture({ health: false });
  try {
    const { ctx } = engine.runtime;
    const environments = await installPluginWithEnvironments(engine, 'plugins/dirtree');
    const { repositories } = await engine.client.get<{ repositories: { id: string }[] }>(
      `/repositories?environment=${environments[0]}`,
    );
    const mnt = join(engine.dir, 'mnt');
    const source = join(must(engine.ssh.hosts[0], 'a host').home, 'data', 'small');
    // The sshd hosts run on this machine: their homes are local directories.
    await mkdir(source, { recursive: true });
    await writeFile(join(source, 'file'), 'data\n');
    const { sourceConfig } = await engine.client.post<{ sourceConfig: { id: string } }>('/sourceconfigs', {
      repository: must(repositories[0], 'a repository').id,
      parameters: DIRTREE_TOUR_PLUGIN.sourceConfig(source, 'data-small'),
    });
    const link = await finished(
      engine,
      await engine.client.post('/dsources', {
        name: 'ds-small',
        sourceConfig: sourceConfig.id,
        stagingEnvironment: environments[1],
        parameters: DIRTREE_TOUR_PLUGIN.linkParameters(join(mnt, 'staging-small')),
      }),
    );
    const provisioned = await finished(
      engine,
      await engine.client.post('/vdbs', {
        name: 'vdb-0',
        source: link.objectId,
        environment: environments[2],
        parameters: DIRTREE_TOUR_PLUGIN.vdbParameters(join(mnt, 'vdb-0')),
      }),
    );
    const template = await ctx.model.vdbs.require(provisioned.objectId);

    // Fill: 999 more VDB records like the real one, then the runs, all through the model.
    const fillStart = performance.now();
    const { rev: _rev, createdAt: _createdAt, updatedAt: _updatedAt, ...fields } = template;
    const vdbIds = [template.id];
    for (let batch = 1; batch < VDBS; batch += 100) {
      const created = await Promise.all(
        Array.from({ length: Math.min(100, VDBS - batch) }, (_, j) => {
          const i = batch + j;
          const copy: Omit<VdbRecord, 'rev' | 'createdAt' | 'updatedAt'> = {
            ...fields,
            id: `${template.id}-${i}`,
            name: `vdb-${i}`,
          };
          return ctx.model.vdbs.create(copy);
        }),
      );
      vdbIds.push(...created.map((vdb) => vdb.id));
    }
    const inFlight = 2_000;
    for (let batch = 0; batch < RUNS; batch += inFlight) {
      await Promise.all(
        Array.from({ length: Math.min(inFlight, RUNS - batch) }, (_, j) => {
          const i = batch + j;
          return ctx.model.runs.create({
            id: `bench-run-${String(i).padStart(7, '0')}`,
            kind: KINDS[i % KINDS.length] ?? 'vdb-provision',
            machineVersion: 1,
            status: statusOf(i),
            state: { value: 'done', context: {} },
            pending: [],
            objectType: 'vdb',
            objectId: vdbIds[i % vdbIds.length] ?? template.id,
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
    const fillMs = performance.now() - fillStart;
    load.afterFill = loadAverage();
    const memoryAfterFill = memory();

    // The API, over HTTP, as `dvx vdb list` and `dvx run list --kind --status` ask it.
    const listed = await engine.client.get<{ vdbs: unknown[] }>('/vdbs');
    if (listed.vdbs.length !== VDBS) throw new Error(`GET /vdbs listed ${listed.vdbs.length} VDBs, not ${VDBS}`);
    await timeEach(WARMUP, () => engine.client.get('/vdbs'));
    const vdbsMs = summarize(await timeEach(REQUESTS, () => engine.client.get('/vdbs')));
    const vdbsPageMs = summarize(await timeEach(REQUESTS, () => engine.client.get('/vdbs?limit=50&offset=500')));
    // The floor of an authenticated request on this machine now: a run listing that matches nothing.
    const emptyRunsMs = summarize(
      await timeEach(REQUESTS, () => engine.client.get('/runs?kind=no-such-kind&status=failed')),
    );
    const runCases = [
      { kind: 'vdb-refresh', status: 'succeeded' },
      { kind: 'vdb-delete', status: 'cancelled' },
    ];
    const runs = [];
    for (const query of runCases) {
      const path = `/runs?kind=${query.kind}&status=${query.status}`;
      const page = await engine.client.get<{ runs: { kind: string; status: string }[] }>(path);
      if (page.runs.length === 0 || page.runs.some((r) => r.kind !== query.kind || r.status !== query.status))
        throw new Error(`${path} listed runs that do not match`);
      await timeEach(WARMUP, () => engine.client.get(path));
      runs.push({
        query,
        returned: page.runs.length,
        ms: summarize(await timeEach(REQUESTS, () => engine.client.get(path))),
      });
    }

    // Health ticks: every VDB asked on its host (mount check, then the plugin's status).
    const steps: StepServices = {
      model: ctx.model,
      secrets: ctx.secrets,
      storage: ctx.storage,
      mounts: new BindMountTransport({ runBash }),
      hosts: must(ctx.hosts, 'the host pool'),
      logger: silentLogger,
      plugins: { cacheDir: join(engine.runtime.dataDir, 'plugin-cache') },
    };
    const tick = async (ticks: number, options: HealthMonitorOptions) => {
      const monitor = new HealthMonitor(steps, ctx.driver, silentLogger, { autoRecover: false, ...options });
      const states = new Map<string, number>();
      const samples = await timeEach(ticks, async () => {
        const report = await monitor.check();
        states.clear();
        for (const state of Object.values(report.vdbs)) states.set(state, (states.get(state) ?? 0) + 1);
      });
      if ((states.get('ACTIVE') ?? 0) !== VDBS)
        throw new Error(`a health tick found ${JSON.stringify(Object.fromEntries(states))}, not ${VDBS} ACTIVE VDBs`);
      return summarize(samples);
    };
    // Now: bounded concurrency, the mounts asked in one command per host, 16 plugin statuses per round in turn.
    const tickNowMs = await tick(TICKS, {});
    // Every plugin asked every round, at bounded concurrency, then one after the other as the monitor did before.
    const tickAllPluginsMs = await tick(BASELINE_TICKS, { statusChecksPerRound: VDBS });
    const tickSequentialMs = await tick(BASELINE_TICKS, { statusChecksPerRound: VDBS, concurrency: 1 });
    load.end = loadAverage();
    const memoryEnd = memory();
    const info = await engine.redis.client().info('memory');
    const redisUsedMiB = mib(Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN));

    return {
      vdbs: VDBS,
      runs: RUNS,
      fillMs: round(fillMs, 0),
      getVdbsMs: vdbsMs,
      getVdbsPageOf50Ms: vdbsPageMs,
      emptyRunListMs: emptyRunsMs,
      getRunsMs: runs,
      healthTickMs: {
        now: tickNowMs,
        roundsForEveryPluginStatus: Math.ceil(VDBS / HEALTH_MONITOR_DEFAULTS.statusChecksPerRound),
        everyPluginBoundedConcurrency: tickAllPluginsMs,
        everyPluginSequential: tickSequentialMs,
      },
      memory: { afterFill: memoryAfterFill, end: memoryEnd, redisUsedMiB },
      loadAverage: load,
      note: `${VDBS} VDBs, ${RUNS} runs: GET /vdbs p50 ${vdbsMs.p50} ms (p95 ${vdbsMs.p95}; a page of 50 ${vdbsPageMs.p50} ms), GET /runs?kind&status p50 ${runs.map((r) => r.ms.p50).join('/')} ms (p95 ${runs.map((r) => r.ms.p95).join('/')}; an empty listing ${emptyRunsMs.p50} ms); health tick p50 ${round(tickNowMs.p50, 0)} ms (every plugin asked: ${round(tickAllPluginsMs.p50, 0)} ms at bounded concurrency, ${round(tickSequentialMs.p50, 0)} ms one after the other); engine RSS ${memoryEnd.rssMiB} MiB, heap ${memoryEnd.heapUsedMiB} MiB; Redis ${redisUsedMiB} MiB; load ${load.start}/${load.afterFill}/${load.end}`,
    };
  } finally {
    await engine.stop();
  }
}
