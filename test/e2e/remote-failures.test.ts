// Faults with VDBs on isolated hosts mounted over sshfs: the network to the host cut during a provision, the host
// gone for 30 s (a power cut), the engine killed with the VDB mounted. The engine runs in a process of its own so
// that it can be killed.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE, EngineClient } from '../../cli/engine-client.js';
import { writeSampleData } from '../../cli/quickstart/sample-data.js';
import { waitForRun } from '../../cli/wait-for-run.js';
import type { RuntimeStatus } from '../../model/runtime-status.js';
import { BtrfsBackend } from '../../storage/index.js';
import { SftpServer } from '../../storage/sftp-server.js';
import { createTestBtrfsPool, type TestBtrfsPool } from '../harness/btrfs-pool.js';
import { startEngineProcess, type EngineProcess } from '../harness/engine-process.js';
import { freePort } from '../harness/free-port.js';
import { startIsolatedHosts, type TestIsolatedHost, type TestIsolatedHosts } from '../harness/isolated-hosts.js';
import { must } from '../harness/must.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { stopOnExit } from '../harness/sftp-server.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait-for.js';
import { pluginBuilder } from './engine-fixture.js';

const ENGINE = fileURLToPath(new URL('../fixtures/remote-engine.ts', import.meta.url));
const MOUNTS = '/srv/dvx';

let isolated: TestIsolatedHosts;
let redis: TestRedis;
let pool: TestBtrfsPool;
let temp: { path: string; remove(): Promise<void> };
let sftp: SftpServer;
let engineEnv: Record<string, string>;
let engine: EngineProcess | undefined;
let client: EngineClient;
let dsourceId = '';
let targetId = '';
const source = () => must(isolated.hosts[0], 'the source host');
const target = () => must(isolated.hosts[1], 'the target host');

async function startEngine(): Promise<void> {
  engine = await startEngineProcess(engineEnv, ENGINE);
  const dataDir = join(temp.path, 'data');
  const token = (await readFile(join(dataDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
  client = new EngineClient(`http://127.0.0.1:${engine.startup.port}`, token);
}

async function run(answer: { run: { id: string } }) {
  return waitForRun(client, answer.run.id, { stream: null });
}

async function on(host: TestIsolatedHost, script: string, variables: Record<string, string> = {}): Promise<string> {
  const result = await host.exec(script, variables);
  if (result.exitCode !== 0) throw new Error(`on ${host.name}: exit ${result.exitCode}: ${result.stderr}`);
  return result.stdout;
}

const mountsOnTarget = async () =>
  (await target().exec('findmnt -rn -o TARGET,FSTYPE | grep -F -- "$D/" || true', { D: MOUNTS })).stdout;

const vdbRuntime = async (name: string) =>
  (await client.get<{ vdb: { runtime?: RuntimeStatus } }>(`/vdbs/${name}`)).vdb.runtime;

function provision(name: string) {
  return client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
    name,
    source: dsourceId,
    environment: targetId,
    parameters: { mountLocation: `${MOUNTS}/${name}` },
  });
}

beforeAll(async () => {
  isolated = await startIsolatedHosts(2);
  redis = await startRedisServer();
  pool = await createTestBtrfsPool();
  temp = await makeTempDir('remote-failures');
  const dataDir = join(temp.path, 'data');
  const listenAddresses = isolated.hosts.map((host) => host.engineAddress);
  const sftpPort = await freePort();
  sftp = new SftpServer({ dir: join(dataDir, 'sftp'), listenAddresses, port: sftpPort });
  stopOnExit(sftp);
  engineEnv = {
    DVX_TEST_ENGINE: JSON.stringify({
      dataDir,
      redisUrl: redis.url,
      poolRoot: pool.root,
      sftpListen: listenAddresses,
      sftpPort,
      retryDeadlineMs: 20_000,
    }),
  };
  await startEngine();

  const artifact = JSON.parse(await readFile(await pluginBuilder(temp.path)('plugins/dirsync'), 'utf8')) as unknown;
  const uploaded = await client.post<{ plugin: { id: string }; runs: { id: string }[] }>('/plugins', artifact);
  for (const upload of uploaded.runs) await waitForRun(client, upload.id, { stream: null });
  const environments: string[] = [];
  for (const host of isolated.hosts) {
    const answer = await client.post<{ environment: { id: string }; run: { id: string } }>('/environments', {
      name: host.name,
      host: host.address.host,
      port: host.address.port,
      user: host.address.user,
      privateKey: must(host.credentials.privateKey, 'the host key'),
    });
    expect((await run(answer)).status).toBe('succeeded');
    environments.push(answer.environment.id);
  }
  targetId = must(environments[1], 'the target environment');
  await writeSampleData(join(source().rootfs, 'root/data/faults'), 20);
  const { repositories } = await client.get<{ repositories: { id: string; pluginId: string }[] }>(
    `/repositories?environment=${environments[0]}`,
  );
  const repository = must(
    repositories.find((candidate) => candidate.pluginId === uploaded.plugin.id),
    'the dirsync repository',
  );
  const { sourceConfig } = await client.post<{ sourceConfig: { id: string } }>('/sourceconfigs', {
    repository: repository.id,
    parameters: { path: '/root/data/faults', name: 'faults' },
  });
  const link = await client.post<{ dsource: { id: string }; run: { id: string } }>('/dsources', {
    name: 'faults',
    sourceConfig: sourceConfig.id,
    stagingEnvironment: environments[0],
    parameters: {},
  });
  expect((await run(link)).status).toBe('succeeded');
  dsourceId = link.dsource.id;
}, 180_000);

afterAll(async () => {
  if (process.env.DVX_DEBUG) console.log(engine?.output().slice(-6000));
  await engine?.stop();
  await sftp?.stop({ sessions: true });
  await isolated?.stopAll();
  await pool?.remove();
  await redis?.remove();
  await temp?.remove();
}, 120_000);

describe('faults with VDBs on isolated hosts (sshfs)', () => {
  it('network cut during a provision: a short cut and the run finishes; a long one and it fails saying what to do, leaving nothing mounted', async () => {
    // The cut comes once the provision is accepted (the request itself reaches the target host: with the link down
    // it waits for the SSH keepalive to give up, 60 s).
    const short = await provision('cut-short');
    await target().link.setUp(false);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await target().link.setUp(true);
    expect((await run(short)).status).toBe('succeeded');
    expect(await mountsOnTarget()).toBe(`${MOUNTS}/cut-short fuse.sshfs\n`);
    expect(await on(target(), 'cat "$D/README.txt"', { D: `${MOUNTS}/cut-short` })).toContain('sample dataset');
    expect((await run(await client.delete<{ run: { id: string } }>('/vdbs/cut-short'))).status).toBe('succeeded');

    const long = await provision('cut-long');
    await target().link.setUp(false);
    let failed;
    try {
      failed = await run(long);
    } finally {
      await target().link.setUp(true);
    }
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toContain(target().name);
    expect(failed.error?.action).toBeTruthy();
    // Nothing half-mounted: no mount on the host, no export on the engine, no clone left for the VDB.
    expect(await mountsOnTarget()).toBe('');
    expect(await sftp.exportIds()).toEqual([]);
    // The same provision goes through once the network is back.
    const again = await provision('cut-long-again');
    expect((await run(again)).status).toBe('succeeded');
    expect((await run(await client.delete<{ run: { id: string } }>('/vdbs/cut-long-again'))).status).toBe('succeeded');
  }, 300_000);

  it('host gone for 30 s: the VDB is UNREACHABLE meanwhile and comes back mounted by itself', async () => {
    expect((await run(await provision('gone'))).status).toBe('succeeded');
    await waitFor('the VDB to be seen ACTIVE', async () => (await vdbRuntime('gone'))?.state === 'ACTIVE', 20_000);
    await target().stop();
    const down = await waitFor(
      'the VDB to be UNREACHABLE',
      async () => ((await vdbRuntime('gone'))?.state === 'UNREACHABLE' ? true : undefined),
      20_000,
    );
    expect(down).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 30_000));
    await target().start();
    const back = await waitFor(
      'the VDB to be ACTIVE again',
      async () => {
        const runtime = await vdbRuntime('gone');
        return runtime?.state === 'ACTIVE' && runtime.recoveryRunId ? runtime : undefined;
      },
      60_000,
    );
    const recovery = await client.get<{ run: { kind: string; status: string } }>(
      `/runs/${must(back.recoveryRunId, 'the recovery run')}`,
    );
    expect(recovery.run).toMatchObject({ kind: 'vdb-enable', status: 'succeeded' });
    expect(await mountsOnTarget()).toBe(`${MOUNTS}/gone fuse.sshfs\n`);
    expect(await on(target(), 'cat "$D/README.txt"', { D: `${MOUNTS}/gone` })).toContain('sample dataset');
  }, 180_000);

  it('engine killed with the VDB mounted: the mount keeps working, and the restarted engine finds it attached', async () => {
    const before = must(await vdbRuntime('gone'), 'the VDB runtime');
    const sshfsPid = await on(target(), 'pgrep -x sshfs');
    expect(sshfsPid).toMatch(/^\d+\n$/);
    await must(engine, 'the engine').kill();
    engine = undefined;

    // Reads and writes go on through the mount while no engine runs.
    await on(target(), 'echo "while the engine was down" > "$D/written.txt"', { D: `${MOUNTS}/gone` });
    expect(await on(target(), 'cat "$D/written.txt"', { D: `${MOUNTS}/gone` })).toBe('while the engine was down\n');

    await startEngine();
    const current = await client.get<{ vdb: { currentTimeflowId: string } }>('/vdbs/gone');
    const clone = new BtrfsBackend({ root: pool.root }).datasetPath(current.vdb.currentTimeflowId);
    expect(await readFile(join(clone, 'written.txt'), 'utf8')).toBe('while the engine was down\n');
    // The monitor (every second) writes a status only when what it sees changes: after a few rounds the VDB must
    // still be ACTIVE since before the kill, neither UNREACHABLE nor recovered.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const seen = must(await vdbRuntime('gone'), 'the VDB runtime');
    expect(seen.state).toBe('ACTIVE');
    expect(seen.since).toBe(before.since);
    // Attached as it was: no recovery run, the same sshfs process on the host.
    expect(seen.recoveryRunId).toBe(before.recoveryRunId);
    expect(await on(target(), 'pgrep -x sshfs')).toBe(sshfsPid);
    expect((await run(await client.delete<{ run: { id: string } }>('/vdbs/gone'))).status).toBe('succeeded');
    expect(await mountsOnTarget()).toBe('');
  }, 120_000);
});
