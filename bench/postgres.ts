// plugins/postgres: time to a ready VDB by phase (clone, attach, configure = start + promote + the plugin's first
// `select 1`, then a client's first query) at pgbench scales 10 and 100, next to a pg_basebackup of the source to a new
// directory and a `cp -a` of its data directory, measured in the same run; 1, 5 and 15 provisions at once (p50, p95);
// rewind and refresh time with 10 other VDBs running; the pool space 10 idle VDBs take against the dSource's size.
// Real engine, real sshd hosts, a btrfs pool on a loop file, real PostgreSQL run as the postgres user.
// DVX_BENCH_PG_SCALES=10 limits the scales (default 10,100); the concurrency, rewind/refresh and space parts use the
// first scale.
import { execFile } from 'node:child_process';
import { chmod, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunView } from '../cli/run-view.js';
import { startEngineFixture, type EngineFixture } from '../test/e2e/engine-fixture.js';
import { freePort } from '../test/harness/free-port.js';
import { must } from '../test/harness/must.js';
import { makeTempDir } from '../test/harness/temp-dir.js';
import {
  asPostgres,
  findPostgresBin,
  sql,
  startSourceCluster,
  stopPostgresAndUnmountUnder,
  type SourceCluster,
} from '../test/postgres/pg-cluster.js';
import { finished, installPluginWithEnvironments, wallMs } from './lib/engine.js';
import { median, percentile, round } from './lib/stats.js';

const run = promisify(execFile);

const stepMs = (view: RunView, stepId: string) =>
  view.steps
    .filter((step) => step.stepId === stepId)
    .reduce<number | null>((sum, step) => (sum ?? 0) + (step.durationMs ?? 0), null);
/** From the request to the end of the plugin's configure: the VDB answers queries from then on. */
const readyMs = (view: RunView) => {
  const configure = view.steps.find((step) => step.stepId === 'configure');
  return configure?.endedAt ? new Date(configure.endedAt).getTime() - new Date(view.createdAt).getTime() : null;
};
const allSteps = (view: RunView) =>
  Object.fromEntries(view.steps.map((step) => [step.stepId, step.durationMs ?? null]));

async function timed<T>(action: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await action();
  return { ms: round(performance.now() - start, 1), value };
}

async function duBytes(path: string): Promise<number> {
  const { stdout } = await run('du', ['-sb', path]);
  return Number(stdout.split('\t')[0]);
}

async function poolUsedBytes(engine: EngineFixture): Promise<number> {
  await run('btrfs', ['subvolume', 'sync', engine.storage.root]).catch(() => undefined);
  await run('btrfs', ['filesystem', 'sync', engine.storage.root]);
  return (await engine.storage.usage()).usedBytes;
}

const summary = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50), 1),
    p95: round(percentile(sorted, 95), 1),
    max: round(sorted.at(-1) ?? Number.NaN, 1),
  };
};

export default async function postgres() {
  const bin = findPostgresBin();
  if (!bin)
    throw new Error(
      'PostgreSQL is not installed (/usr/lib/postgresql/N/bin); run `node scripts/setup.mjs --postgres`.',
    );
  const scales = (process.env.DVX_BENCH_PG_SCALES ?? '10,100').split(',').map(Number);
  const work = await makeTempDir('pg-bench');
  await chmod(work.path, 0o755);
  const engine = await startEngineFixture({ poolSizeBytes: 64 * 1024 ** 3, retryDeadlineMs: 600_000 });
  const sources: SourceCluster[] = [];
  const linked: string[] = [];
  try {
    const environments = await installPluginWithEnvironments(engine, 'plugins/postgres');
    const provision = async (name: string, dsourceId: string, port?: number) => {
      const vdbPort = port ?? (await freePort());
      const answer = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
        name,
        source: dsourceId,
        environment: environments[2],
        parameters: { mountPath: join(work.path, name), port: vdbPort },
      });
      return { id: answer.vdb.id, port: vdbPort, view: await finished(engine, answer) };
    };
    const remove = async (ids: string[]) =>
      Promise.all(ids.map(async (id) => finished(engine, await engine.client.delete(`/vdbs/${id}`))));

    const byScale = [];
    const dsources: {
      scale: number;
      id: string;
      source: SourceCluster;
      bytes: number;
      vdb: { id: string; port: number };
    }[] = [];
    for (const scale of scales) {
      const source = await startSourceCluster({
        bin,
        dir: join(work.path, `source-${scale}`),
        port: await freePort(),
        replicationUser: 'dvx_repl',
        password: 'bench-password',
      });
      sources.push(source);
      await asPostgres(
        join(bin, 'pgbench'),
        ['-i', '-s', String(scale), '-q', '-h', '127.0.0.1', '-p', String(source.port), '-U', 'postgres', 'postgres'],
        { timeoutMs: 3_600_000 },
      );
      await sql(bin, source.port, 'checkpoint');
      const bytes = await duBytes(source.dataDir);
      await finished(engine, await engine.client.post(`/environments/${environments[0]}/refresh`));
      const { sourceConfigs } = await engine.client.get<{
        sourceConfigs: { id: string; parameters: { dataDir: string } }[];
      }>(`/sourceconfigs?environment=${environments[0]}`);
      const sourceConfig = must(
        sourceConfigs.find((config) => config.parameters.dataDir === source.dataDir),
        `the source config of ${source.dataDir}`,
      );
      const linkAnswer = await engine.client.post<{ dsource: { id: string }; run: { id: string } }>('/dsources', {
        name: `pg-${scale}`,
        sourceConfig: sourceConfig.id,
        stagingEnvironment: environments[1],
        parameters: {
          mountPath: join(work.path, `staging-${scale}`),
          replicationUser: 'dvx_repl',
          password: 'bench-password',
          stagingPort: await freePort(),
        },
      });
      linked.push(linkAnswer.dsource.id);
      const link = await finished(engine, linkAnswer);

      const vdb = await provision(`vdb-${scale}`, linkAnswer.dsource.id);
      const firstQuery = await timed(() => sql(bin, vdb.port, 'select count(*) from pgbench_branches'));
      if (Number(firstQuery.value) !== scale) throw new Error(`VDB of scale ${scale} has ${firstQuery.value} branches`);
      // psql's own start-up, to read the first query against: the same query on the (warm) source.
      const psqlOnSource = await timed(() => sql(bin, source.port, 'select count(*) from pgbench_branches'));
      dsources.push({ scale, id: linkAnswer.dsource.id, source, bytes, vdb });

      const basebackupDir = join(work.path, `basebackup-${scale}`);
      await run('install', ['-d', '-o', 'postgres', '-g', 'postgres', '-m', '0700', basebackupDir]);
      const basebackup = await timed(() =>
        asPostgres(
          join(bin, 'pg_basebackup'),
          [
            '-D',
            join(basebackupDir, 'data'),
            '-X',
            'stream',
            '-c',
            'fast',
            '-h',
            '127.0.0.1',
            '-p',
            String(source.port),
            '-U',
            'postgres',
          ],
          { timeoutMs: 3_600_000 },
        ),
      );
      await rm(basebackupDir, { recursive: true, force: true });
      const copyDir = join(work.path, `cp-${scale}`);
      const copy = await timed(async () => {
        await run('cp', ['-a', '--reflink=never', source.dataDir, copyDir]);
        await run('sync', []);
      });
      await rm(copyDir, { recursive: true, force: true });

      byScale.push({
        pgbenchScale: scale,
        sourceBytes: bytes,
        linkMs: wallMs(link),
        linkStepsMs: {
          preSnapshot_basebackupAndCatchUp: stepMs(link, 'preSnapshot'),
          snapshot: stepMs(link, 'snapshot'),
        },
        vdbReadyMs: readyMs(vdb.view),
        phasesMs: {
          mountSpec: stepMs(vdb.view, 'mountSpec'),
          clone: stepMs(vdb.view, 'clone'),
          attach: stepMs(vdb.view, 'attach'),
          configureStartPromote: stepMs(vdb.view, 'configure'),
          firstClientQuery: firstQuery.ms,
          psqlQueryOnSource: psqlOnSource.ms,
        },
        provisionRunMs: wallMs(vdb.view),
        provisionSteps: allSteps(vdb.view),
        baselineMs: { pgBasebackupNewDir: basebackup.ms, cpA: copy.ms },
        readyVsBasebackup: round((readyMs(vdb.view) ?? 0) / basebackup.ms, 3),
        readyVsCp: round((readyMs(vdb.view) ?? 0) / copy.ms, 3),
      });
    }

    const base = must(dsources[0], 'a dSource');
    const concurrency = [];
    let kept: string[] = [];
    let poolBefore = 0;
    for (const count of [1, 5, 15]) {
      if (count === 15) poolBefore = await poolUsedBytes(engine);
      const started = performance.now();
      const vdbs = await Promise.all(Array.from({ length: count }, (_, i) => provision(`c${count}-${i}`, base.id)));
      const wall = performance.now() - started;
      concurrency.push({
        provisionsAtOnce: count,
        wallMs: round(wall, 1),
        readyMs: summary(vdbs.map((vdb) => must(readyMs(vdb.view), 'the ready time'))),
        runMs: summary(vdbs.map((vdb) => wallMs(vdb.view))),
        configureMs: summary(vdbs.map((vdb) => must(stepMs(vdb.view, 'configure'), 'the configure step time'))),
      });
      if (count === 15) kept = vdbs.map((vdb) => vdb.id);
      else await remove(vdbs.map((vdb) => vdb.id));
    }
    await remove(kept.slice(10));
    kept = kept.slice(0, 10);
    for (const id of kept)
      if (!(await engine.client.get<{ vdb: { running: boolean } }>(`/vdbs/${id}`)).vdb.running)
        throw new Error(`VDB ${id} is not running`);
    const poolAfter = await poolUsedBytes(engine);
    const { snapshots: dsourceSnapshots } = await engine.client.get<{ snapshots: { id: string }[] }>(
      `/dsources/${base.id}/snapshots`,
    );
    const dsourceSnapshotBytes = await engine.storage
      .exclusiveBytes(must(dsourceSnapshots.at(-1), 'a dSource snapshot').id)
      .catch(() => null);

    // Rewind and refresh of one VDB while 10 others run.
    const subject = base.vdb;
    await finished(engine, await engine.client.post(`/vdbs/${subject.id}/snapshot`));
    const { snapshots } = await engine.client.get<{ snapshots: { id: string }[] }>(`/snapshots?of=${subject.id}`);
    const target = must(snapshots.at(-1), 'a VDB snapshot').id;
    const rewinds: RunView[] = [];
    const refreshes: RunView[] = [];
    for (let i = 0; i < 3; i += 1) {
      await sql(bin, subject.port, `update pgbench_branches set bbalance = ${i + 1}`);
      rewinds.push(
        await finished(engine, await engine.client.post(`/vdbs/${subject.id}/rewind`, { snapshot: target })),
      );
      refreshes.push(await finished(engine, await engine.client.post(`/vdbs/${subject.id}/refresh`, {})));
    }
    const phase = (views: RunView[], ids: string[]) =>
      Object.fromEntries(ids.map((id) => [id, median(views.map((view) => stepMs(view, id) ?? 0))]));
    await remove(kept);

    return {
      postgres: (await run(join(bin, 'postgres'), ['--version'])).stdout.trim(),
      byScale,
      concurrency: { source: `pgbench scale ${base.scale}`, runs: concurrency },
      rewindRefreshWith10RunningVdbs: {
        rewindMs: {
          median: median(rewinds.map(wallMs)),
          samples: rewinds.map(wallMs),
          phasesMedianMs: phase(rewinds, ['unconfigure', 'detach', 'clone', 'mountSpec', 'attach', 'reconfigure']),
        },
        refreshMs: {
          median: median(refreshes.map(wallMs)),
          samples: refreshes.map(wallMs),
          phasesMedianMs: phase(refreshes, ['unconfigure', 'detach', 'clone', 'mountSpec', 'attach', 'configure']),
        },
      },
      space: {
        idleVdbs: 10,
        source: `pgbench scale ${base.scale}`,
        sourceDataDirBytes: base.bytes,
        dsourceSnapshotExclusiveBytes: dsourceSnapshotBytes,
        poolBytesAddedBy10IdleVdbs: poolAfter - poolBefore,
        perVdbBytes: Math.round((poolAfter - poolBefore) / 10),
        fractionOfSourcePer10Vdbs: round((poolAfter - poolBefore) / base.bytes, 4),
      },
    };
  } finally {
    await stopPostgresAndUnmountUnder(work.path);
    await engine.stop();
    for (const source of sources) await source.stop().catch(() => undefined);
    for (const id of linked) await rm(join('/var/lib/postgresql/.dvx', `pgpass-${id}`), { force: true });
    await work.remove();
  }
}
