// What dvx records of a PostgreSQL VDB and its host follows what the lifecycle did and what the host says (issue 12,
// section 2), and the health monitor writes a record only when what it sees changes. The monitor's rounds are taken by
// hand (check()), so that every reading is one the test waited for. Fails without PostgreSQL installed.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBash, SshConnectionPool } from '../../hosts/index.js';
import { silentLogger } from '../../log/logger.js';
import { BindMountTransport } from '../../storage/index.js';
import { HealthMonitor } from '../../workers/health-monitor.js';
import { startEngineFixture, type EngineFixture } from '../e2e/engine-fixture.js';
import { refused, succeeded } from '../e2e/fixture-setup.js';
import { freePort } from '../harness/free-port.js';
import { must } from '../harness/must.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait-for.js';
import {
  postgresOnPort,
  postmastersUnder,
  requirePostgres,
  sql,
  startSourceCluster,
  stopPostgresAndUnmountUnder,
  type SourceCluster,
} from './pg-cluster.js';

const bin = requirePostgres();
const execFileAsync = promisify(execFile);

/** pids of every postgres process (postmaster and children) whose working directory is under `dir`. */
async function postgresProcessesUnder(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!(await readlink(`/proc/${entry}/exe`)).endsWith('/postgres')) continue;
      const cwd = await readlink(`/proc/${entry}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

describe('a PostgreSQL VDB is recorded as the host has it', () => {
  let engine: EngineFixture;
  let work: { path: string; remove(): Promise<void> };
  let source: SourceCluster;
  let hosts: SshConnectionPool;
  let monitor: HealthMonitor;
  const environments: string[] = [];
  let dsourceId: string;
  let vdbId: string;
  let vdbPort: number;
  const vdbMount = () => join(work.path, 'vdb');
  const rows = async () => Number(await sql(bin, vdbPort, 'select count(*) from kept'));
  const vdbRecord = async () => must(await engine.runtime.ctx.model.vdbs.get(vdbId), 'the VDB');
  const environmentView = async (id: string) =>
    (await engine.client.get<{ environment: { status: string; runtime?: { state: string } } }>(`/environments/${id}`))
      .environment;
  /** Waits for every process of the VDB's server to end and its port to be free. */
  const serverGone = (postmasterPid: number) =>
    waitFor(
      "every process of the VDB's server to end and its port to be free",
      async () =>
        !existsSync(`/proc/${postmasterPid}`) &&
        (await postgresProcessesUnder(vdbMount())).length === 0 &&
        (await execFileAsync('ss', ['-Htln', `sport = :${vdbPort}`])).stdout.trim() === ''
          ? true
          : null,
      30_000,
    );
  const act = async (action: string, body?: object) =>
    succeeded(engine, await engine.client.post<{ run: { id: string } }>(`/vdbs/${vdbId}/${action}`, body));

  beforeAll(async () => {
    // Mount paths and the source live under a directory the postgres user can traverse (mkdtemp makes 0700 ones).
    work = await makeTempDir('pg-state');
    await chmod(work.path, 0o755);
    engine = await startEngineFixture({ hosts: 3, health: false });
    source = await startSourceCluster({
      bin,
      dir: join(work.path, 'source'),
      port: await freePort(),
      replicationUser: 'dvx_repl',
      password: 'state-test',
    });
    await sql(bin, source.port, 'create table kept (id int); insert into kept select generate_series(1, 10)');
    const artifact = JSON.parse(await readFile(await engine.build('plugins/postgres'), 'utf8')) as unknown;
    await engine.client.post('/plugins', artifact);
    for (const index of [0, 1, 2]) {
      const host = engine.tourHost(index);
      const answer = await engine.client.post<{ environment: { id: string }; run: { id: string } }>('/environments', {
        name: host.name,
        host: host.host,
        port: host.port,
        user: host.user,
        privateKey: host.privateKey,
      });
      await succeeded(engine, answer);
      environments.push(answer.environment.id);
    }
    const { sourceConfigs } = await engine.client.get<{
      sourceConfigs: { id: string; parameters: { dataDir: string } }[];
    }>(`/sourceconfigs?environment=${environments[0]}`);
    const sourceConfig = must(
      sourceConfigs.find((config) => config.parameters.dataDir === source.dataDir),
      'the source cluster, discovered',
    );
    const link = await engine.client.post<{ dsource: { id: string }; run: { id: string } }>('/dsources', {
      name: 'pg-state-source',
      sourceConfig: sourceConfig.id,
      stagingEnvironment: environments[1],
      parameters: {
        mountPath: join(work.path, 'staging'),
        replicationUser: source.replicationUser,
        password: source.password,
        stagingPort: await freePort(),
      },
    });
    await succeeded(engine, link);
    dsourceId = link.dsource.id;
    vdbPort = await freePort();
    const provision = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'pg-state-vdb',
      source: dsourceId,
      environment: environments[2],
      parameters: { mountPath: vdbMount(), port: vdbPort },
    });
    await succeeded(engine, provision);
    vdbId = provision.vdb.id;
    hosts = new SshConnectionPool({ readyTimeoutMs: 2_000 });
    const { model, secrets } = engine.runtime.ctx;
    monitor = new HealthMonitor(
      {
        model,
        secrets,
        storage: engine.storage,
        mounts: new BindMountTransport({ runBash }),
        hosts,
        logger: silentLogger,
      },
      engine.runtime.durable.driver,
      silentLogger,
      { probeTimeoutMs: 2_000, autoRecover: false },
    );
  }, 300_000);

  afterAll(async () => {
    await hosts?.close();
    if (work) await stopPostgresAndUnmountUnder(work.path);
    await engine?.stop();
    if (dsourceId) await rm(join('/var/lib/postgresql/.dvx', `pgpass-${dsourceId}`), { force: true });
    await work?.remove();
  }, 180_000);

  it('after disable then enable it is recorded running, and stop is accepted and stops it', async () => {
    expect((await vdbRecord()).running).toBe(true);
    await act('disable');
    expect((await vdbRecord()).running).toBe(false);
    expect(await postgresOnPort(vdbPort)).toEqual([]);
    await act('enable');
    expect(await rows()).toBe(10);
    expect((await vdbRecord()).running).toBe(true);
    expect((await monitor.check()).vdbs[vdbId]).toBe('ACTIVE');
    await act('stop');
    expect(await postgresOnPort(vdbPort)).toEqual([]);
    expect((await vdbRecord()).running).toBe(false);
    await act('start');
    expect(await rows()).toBe(10);
    expect((await vdbRecord()).running).toBe(true);
  });

  it('after a rewind and after a refresh of a stopped VDB, which start its server, it is recorded running', async () => {
    await act('snapshot');
    const { snapshots } = await engine.client.get<{ snapshots: { id: string }[] }>(`/snapshots?of=${vdbId}`);
    const snapshot = must(snapshots.at(-1), 'a snapshot of the VDB');
    await act('stop');
    await act('rewind', { snapshot: snapshot.id });
    expect(await rows()).toBe(10);
    expect((await vdbRecord()).running).toBe(true);
    await act('stop');
    await act('refresh', {});
    expect(await rows()).toBe(10);
    expect((await vdbRecord()).running).toBe(true);
  });

  it('whose server was killed is INACTIVE and not running, and a start starts it', async () => {
    if (!(await vdbRecord()).running) await act('start');
    const [postmaster] = await postmastersUnder(vdbMount());
    process.kill(must(postmaster, "the VDB's postmaster").pid, 'SIGKILL');
    await serverGone(must(postmaster, "the VDB's postmaster").pid);
    expect((await monitor.check()).vdbs[vdbId]).toBe('INACTIVE');
    expect(await vdbRecord()).toMatchObject({ running: false, runtime: { state: 'INACTIVE' } });
    await act('start');
    expect(await rows()).toBe(10);
    expect((await vdbRecord()).running).toBe(true);
    expect((await monitor.check()).vdbs[vdbId]).toBe('ACTIVE');
    expect(await vdbRecord()).toMatchObject({ running: true, runtime: { state: 'ACTIVE' } });
    const error = await refused(engine.client.post(`/vdbs/${vdbId}/start`));
    expect(error.message).toMatch(/already running/);
  });

  it('whose host is down shows UNREACHABLE, and so does its environment, until the host is back', async () => {
    const target = must(engine.ssh.hosts[2], 'engine.ssh.hosts[2]');
    const environmentId = must(environments[2], 'environments[2]');
    const [postmaster] = await postmastersUnder(vdbMount());
    await target.stop();
    try {
      const report = await monitor.check();
      expect(report.vdbs[vdbId]).toBe('UNREACHABLE');
      expect(await environmentView(environmentId)).toMatchObject({
        status: 'UNREACHABLE',
        runtime: { state: 'UNREACHABLE' },
      });
    } finally {
      await target.start();
    }
    // The test host's outage ended every process its sessions started, the VDB's server too (as a reboot would).
    expect((await monitor.check()).vdbs[vdbId]).toBe('INACTIVE');
    expect(await environmentView(environmentId)).toMatchObject({ status: 'ACTIVE', runtime: { state: 'ACTIVE' } });
    expect((await vdbRecord()).running).toBe(false);
    await serverGone(must(postmaster, "the VDB's postmaster").pid);
    await act('start');
    expect(await rows()).toBe(10);
    expect((await monitor.check()).vdbs[vdbId]).toBe('ACTIVE');
    expect((await vdbRecord()).running).toBe(true);
  });

  it('the health monitor writes no record while nothing changes', async () => {
    await monitor.check();
    const { model } = engine.runtime.ctx;
    const revs = async () => ({
      vdb: (await vdbRecord()).rev,
      dsource: must(await model.dsources.get(dsourceId), 'the dSource').rev,
      environments: await Promise.all(
        environments.map(async (id) => must(await model.environments.get(id), 'an environment').rev),
      ),
    });
    const before = await revs();
    for (let round = 0; round < 3; round += 1) await monitor.check();
    expect(await revs()).toEqual(before);
  });
});
