// Remote hosts (issue 13 §4): what the sshfs transport costs against a bind mount, in one run.
// - dirtree provision (request to end of run) to an isolated host (sshfs) against the same to a loopback host (bind),
//   alternating, medians; target: isolated at most 1.5x.
// - plugins/postgres at pgbench scale DVX_BENCH_REMOTE_PG_SCALE (default 100): a VDB ready on an isolated host
//   (request to the end of the plugin's configure, median of 3; target < 3 s), and pgbench TPS on it (client on the
//   isolated host) against a VDB on a bind mount and the source cluster (clients on the engine machine), alternating.
// - sequential write (dd conv=fsync) and read (after drop_caches) of a 512 MiB file through the sshfs mount against the
//   pool's disk directly.
// The load average is recorded before and after each part. Real engine, sshd hosts, btrfs pool, PostgreSQL.
import { execFile } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DIRTREE_TOUR_PLUGIN } from '../cli/quickstart/tour-plugins.js';
import type { RunView } from '../cli/run-view.js';
import { startEngineFixture, type EngineFixture } from '../test/e2e/engine-fixture.js';
import { freePort } from '../test/harness/free-port.js';
import { startIsolatedHosts, type TestIsolatedHost } from '../test/harness/isolated-hosts.js';
import { must } from '../test/harness/must.js';
import { makeTempDir } from '../test/harness/temp-dir.js';
import {
  asPostgres,
  findPostgresBin,
  sql,
  startSourceCluster,
  type SourceCluster,
} from '../test/postgres/pg-cluster.js';
import { loadAverage } from './lib/cpu-time.js';
import { finished, wallMs } from './lib/engine.js';
import { median, round } from './lib/stats.js';

const run = promisify(execFile);
const ROUNDS = Number(process.env.DVX_BENCH_REMOTE_ROUNDS ?? 7);

async function on(host: TestIsolatedHost, script: string, variables: Record<string, string> = {}): Promise<string> {
  const result = await host.exec(script, variables);
  if (result.exitCode !== 0) throw new Error(`on ${host.name}: exit ${result.exitCode}: ${result.stderr}`);
  return result.stdout;
}

const readyMs = (view: RunView) => {
  const configure = view.steps.find((step) => step.stepId === 'configure');
  return configure?.endedAt ? new Date(configure.endedAt).getTime() - new Date(view.createdAt).getTime() : Number.NaN;
};
const stepMs = (view: RunView, stepId: string) =>
  view.steps.filter((step) => step.stepId === stepId).reduce((sum, step) => sum + (step.durationMs ?? 0), 0);

async function addEnvironment(
  engine: EngineFixture,
  name: string,
  spec: { host: string; port: number; user: string; privateKey: string },
) {
  const answer = await engine.client.post<{ environment: { id: string }; run: { id: string } }>('/environments', {
    name,
    ...spec,
  });
  await finished(engine, answer);
  return answer.environment.id;
}

const isolatedSpec = (host: TestIsolatedHost) => ({
  host: host.address.host,
  port: host.address.port,
  user: host.address.user,
  privateKey: must(host.credentials.privateKey, 'the host key'),
});

/** MB/s of `bytes` in `ms`. */
const mbps = (bytes: number, ms: number) => round(bytes / 2 ** 20 / (ms / 1000), 1);
const dropCaches = () => writeFile('/proc/sys/vm/drop_caches', '3\n');

export default async function remote() {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed; run `node scripts/setup.mjs --postgres`.');
  const scale = Number(process.env.DVX_BENCH_REMOTE_PG_SCALE ?? 100);
  const loads: Record<string, number> = { start: loadAverage() };
  const isolated = await startIsolatedHosts(1);
  const iso = must(isolated.hosts[0], 'the isolated host');
  const work = await makeTempDir('remote-bench');
  await chmod(work.path, 0o755);
  let engine: EngineFixture | undefined;
  let source: SourceCluster | undefined;
  try {
    await on(
      iso,
      'install -d -o postgres -g postgres -m 0755 /var/lib/postgresql /run/postgresql; install -d -m 0755 /srv/dvx',
    );
    engine = await startEngineFixture({
      poolSizeBytes: 32 * 1024 ** 3,
      retryDeadlineMs: 600_000,
      sftp: { listenAddresses: [iso.engineAddress], port: await freePort() },
    });
    const e = engine;
    const loopback = [0, 1, 2].map((index) => e.tourHost(index));
    const build = async (dir: string) => {
      const { readFile } = await import('node:fs/promises');
      const uploaded = await e.client.post<{ runs: { id: string }[] }>(
        '/plugins',
        JSON.parse(await readFile(await e.build(dir), 'utf8')) as unknown,
      );
      for (const upload of uploaded.runs) await finished(e, { run: upload });
    };
    await build('plugins/dirtree');
    await build('plugins/postgres');
    const env = {
      source: await addEnvironment(e, 'lo-source', must(loopback[0], 'host 0')),
      staging: await addEnvironment(e, 'lo-staging', must(loopback[1], 'host 1')),
      bind: await addEnvironment(e, 'lo-target', must(loopback[2], 'host 2')),
      isolated: await addEnvironment(e, 'iso-target', isolatedSpec(iso)),
    };

    // 1. dirtree provision, bind against sshfs.
    const dataDir = join(work.path, 'tree');
    await run('bash', [
      '-c',
      'for d in $(seq 0 19); do mkdir -p "$1/d$d"; for f in $(seq 0 9); do head -c 524288 /dev/urandom > "$1/d$d/f$f"; done; done',
      'gen',
      dataDir,
    ]);
    const repos = await e.client.get<{ repositories: { id: string; name: string }[] }>(
      `/repositories?environment=${env.source}`,
    );
    const rsyncRepository = must(
      repos.repositories.find((repository) => repository.name.startsWith('rsync')),
      'the dirtree repository',
    );
    const { sourceConfig } = await e.client.post<{ sourceConfig: { id: string } }>('/sourceconfigs', {
      repository: rsyncRepository.id,
      parameters: DIRTREE_TOUR_PLUGIN.sourceConfig(dataDir, 'tree'),
    });
    const link = await finished(
      e,
      await e.client.post('/dsources', {
        name: 'tree',
        sourceConfig: sourceConfig.id,
        stagingEnvironment: env.staging,
        parameters: DIRTREE_TOUR_PLUGIN.linkParameters(join(work.path, 'staging-tree')),
      }),
    );
    loads.beforeProvision = loadAverage();
    const samples: Record<'bind' | 'sshfs', number[]> = { bind: [], sshfs: [] };
    const phases: Record<'bind' | 'sshfs', number[]> = { bind: [], sshfs: [] };
    for (let round_ = 0; round_ < ROUNDS; round_ += 1) {
      const order = round_ % 2 === 0 ? (['bind', 'sshfs'] as const) : (['sshfs', 'bind'] as const);
      for (const kind of order) {
        const name = `tree-${kind}-${round_}`;
        const mountPath = kind === 'bind' ? join(work.path, name) : `/srv/dvx/${name}`;
        const view = await finished(
          e,
          await e.client.post('/vdbs', {
            name,
            source: link.objectId,
            environment: kind === 'bind' ? env.bind : env.isolated,
            parameters: DIRTREE_TOUR_PLUGIN.vdbParameters(mountPath),
          }),
        );
        samples[kind].push(wallMs(view));
        phases[kind].push(stepMs(view, 'attach'));
        await finished(e, await e.client.delete(`/vdbs/${name}`));
      }
    }
    loads.afterProvision = loadAverage();
    const provision = {
      datasetBytes: 200 * 524288,
      rounds: ROUNDS,
      bindMedianMs: median(samples.bind),
      sshfsMedianMs: median(samples.sshfs),
      ratio: round(median(samples.sshfs) / median(samples.bind), 2),
      attachStepMedianMs: { bind: median(phases.bind), sshfs: median(phases.sshfs) },
      samplesMs: samples,
      target: 'sshfs at most 1.5x bind',
    };

    // 2. sequential throughput through the sshfs mount against the pool's disk.
    const big = 512 * 2 ** 20;
    const seqName = 'seq-sshfs';
    const seqView = await finished(
      e,
      await e.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
        name: seqName,
        source: link.objectId,
        environment: env.isolated,
        parameters: DIRTREE_TOUR_PLUGIN.vdbParameters(`/srv/dvx/${seqName}`),
      }),
    );
    void seqView;
    const seqVdb = await e.client.get<{ vdb: { currentTimeflowId: string } }>(`/vdbs/${seqName}`);
    const poolDir = e.storage.datasetPath(seqVdb.vdb.currentTimeflowId);
    const timedMs = async (action: () => Promise<unknown>) => {
      const start = performance.now();
      await action();
      return performance.now() - start;
    };
    const DD_WRITE = 'dd if=/dev/zero of="$F" bs=1M count=512 conv=fsync status=none';
    const DD_READ = 'dd if="$F" of=/dev/null bs=1M status=none';
    const throughput: Record<string, number[]> = { sshfsWrite: [], localWrite: [], sshfsRead: [], localRead: [] };
    loads.beforeThroughput = loadAverage();
    for (let i = 0; i < 3; i += 1) {
      throughput.sshfsWrite?.push(await timedMs(() => on(iso, DD_WRITE, { F: `/srv/dvx/${seqName}/big-sshfs` })));
      throughput.localWrite?.push(
        await timedMs(() => run('bash', ['-c', DD_WRITE], { env: { ...process.env, F: join(poolDir, 'big-local') } })),
      );
      await dropCaches();
      throughput.sshfsRead?.push(await timedMs(() => on(iso, DD_READ, { F: `/srv/dvx/${seqName}/big-sshfs` })));
      await dropCaches();
      throughput.localRead?.push(
        await timedMs(() => run('bash', ['-c', DD_READ], { env: { ...process.env, F: join(poolDir, 'big-local') } })),
      );
    }
    loads.afterThroughput = loadAverage();
    const mb = (key: string) => mbps(big, median(throughput[key] ?? []));
    const sequential = {
      fileMiB: 512,
      method:
        'dd bs=1M of zeros, write with conv=fsync; read after echo 3 > /proc/sys/vm/drop_caches (page cache of the engine machine and the host alike: one kernel); medians of 3',
      writeMBps: {
        sshfs: mb('sshfsWrite'),
        local: mb('localWrite'),
        ratio: round(mb('sshfsWrite') / mb('localWrite'), 2),
      },
      readMBps: { sshfs: mb('sshfsRead'), local: mb('localRead'), ratio: round(mb('sshfsRead') / mb('localRead'), 2) },
    };
    await finished(e, await e.client.delete(`/vdbs/${seqName}`));

    // 3. PostgreSQL at pgbench scale `scale`.
    source = await startSourceCluster({
      bin,
      dir: join(work.path, 'pg-source'),
      port: await freePort(),
      replicationUser: 'dvx_repl',
      password: 'bench-password',
    });
    const pgSource = source;
    await asPostgres(
      join(bin, 'pgbench'),
      ['-i', '-s', String(scale), '-q', '-h', '127.0.0.1', '-p', String(pgSource.port), 'postgres'],
      { timeoutMs: 3_600_000 },
    );
    await sql(bin, pgSource.port, 'checkpoint');
    await finished(e, await e.client.post(`/environments/${env.source}/refresh`));
    const { sourceConfigs } = await e.client.get<{
      sourceConfigs: { id: string; parameters: { dataDir: string } }[];
    }>(`/sourceconfigs?environment=${env.source}`);
    const pgLink = await finished(
      e,
      await e.client.post('/dsources', {
        name: 'pg',
        sourceConfig: must(
          sourceConfigs.find((config) => config.parameters.dataDir === pgSource.dataDir),
          'the source config',
        ).id,
        stagingEnvironment: env.staging,
        parameters: {
          mountPath: join(work.path, 'pg-staging'),
          replicationUser: 'dvx_repl',
          password: 'bench-password',
          stagingPort: await freePort(),
        },
      }),
    );
    const pgVdb = async (name: string, kind: 'bind' | 'sshfs') => {
      const port = await freePort();
      const view = await finished(
        e,
        await e.client.post('/vdbs', {
          name,
          source: pgLink.objectId,
          environment: kind === 'bind' ? env.bind : env.isolated,
          parameters: { mountPath: kind === 'bind' ? join(work.path, name) : `/srv/dvx/${name}`, port },
        }),
      );
      return { port, view };
    };
    loads.beforePostgres = loadAverage();
    const ready: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const { view } = await pgVdb(`pg-ready-${i}`, 'sshfs');
      ready.push(readyMs(view));
      await finished(e, await e.client.delete(`/vdbs/pg-ready-${i}`));
    }
    const isoVdb = await pgVdb('pg-iso', 'sshfs');
    const bindVdb = await pgVdb('pg-bind', 'bind');
    const PGBENCH = ['-n', '-c', '4', '-j', '2', '-T', '15', '-h', '127.0.0.1', 'postgres'];
    const tpsOf = (output: string) => Number(/tps = ([\d.]+)/.exec(output)?.[1]);
    const tps: Record<'sshfs' | 'bind' | 'source', number[]> = { sshfs: [], bind: [], source: [] };
    for (let i = 0; i < 2; i += 1) {
      tps.sshfs.push(
        tpsOf(
          await on(iso, `runuser -u postgres -- "$B/pgbench" ${PGBENCH.join(' ')} -p "$P"`, {
            B: bin,
            P: String(isoVdb.port),
          }),
        ),
      );
      tps.bind.push(tpsOf(await asPostgres(join(bin, 'pgbench'), [...PGBENCH, '-p', String(bindVdb.port)])));
      tps.source.push(tpsOf(await asPostgres(join(bin, 'pgbench'), [...PGBENCH, '-p', String(pgSource.port)])));
    }
    loads.afterPostgres = loadAverage();
    const postgres = {
      scale,
      readyOnIsolatedMs: { median: median(ready), samples: ready, target: '< 3000' },
      pgbench:
        '-c 4 -j 2 -T 15, TPC-B-like; client on the same machine as the VDB; 2 alternating rounds, the lower of two (nearest-rank median)',
      tps: {
        sshfs: median(tps.sshfs),
        bind: median(tps.bind),
        source: median(tps.source),
        sshfsVsBind: round(median(tps.sshfs) / median(tps.bind), 3),
        sshfsVsSource: round(median(tps.sshfs) / median(tps.source), 3),
        samples: tps,
      },
    };
    for (const name of ['pg-iso', 'pg-bind']) await finished(e, await e.client.delete(`/vdbs/${name}`));
    await finished(e, await e.client.delete(`/dsources/${pgLink.objectId}`));
    loads.end = loadAverage();
    return { provision, sequential, postgres, loadAverage1m: loads };
  } finally {
    await source?.stop();
    await engine?.stop();
    await isolated.stopAll();
    await work.remove();
  }
}
