// plugins/postgres end to end: a real source cluster, a streaming standby in a btrfs-backed staging mount, VDBs
// promoted from clones, all through the engine's REST API with real sshd hosts. Fails without PostgreSQL installed.
import { execFile } from 'node:child_process';
import { chmod, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRun } from '../../cli/wait-for-run.js';
import { localMountPoints } from '../../storage/local-mounts.js';
import { startEngineFixture, type EngineFixture } from '../e2e/engine-fixture.js';
import { succeeded } from '../e2e/fixture-setup.js';
import { freePort } from '../harness/free-port.js';
import { makeTempDir } from '../harness/temp-dir.js';
import {
  asPostgres,
  installFakePostgres,
  postgresOnPort,
  postmastersUnder,
  sql,
  startSourceCluster,
  requirePostgres,
  stopPostgresAndUnmountUnder,
  type FakeInstallation,
  type SourceCluster,
} from './pg-cluster.js';
import { must } from '../harness/must.js';
import { stringMatching } from '../harness/matchers.js';

const execFileAsync = promisify(execFile);
// Fails, never skips, without PostgreSQL: CI installs it (`node scripts/setup.mjs --postgres`), and a suite that
// skipped itself there would let a broken plugin pass.
const PG_BIN = requirePostgres();

interface RunError {
  code: string;
  message: string;
  action?: string;
}

describe('plugins/postgres (staged) end to end', () => {
  const bin = PG_BIN;
  let engine: EngineFixture;
  let work: { path: string; remove(): Promise<void> };
  let source: SourceCluster;
  const environments: string[] = [];
  let sourceConfigId: string;
  let dsourceId: string;
  let vdbPort: number;
  let vdbId: string;
  let fakeInstallation: FakeInstallation | undefined;
  const vdbMount = () => join(work.path, 'vdb1');
  const vdbQuery = (query: string) => sql(bin, vdbPort, query);
  const count = async (port: number, table: string) => Number(await sql(bin, port, `select count(*) from ${table}`));

  async function failed(answer: { run: { id: string } }): Promise<RunError> {
    const run = await waitForRun(engine.client, answer.run.id, { stream: null });
    expect(run.status).toBe('failed');
    return run.error as RunError;
  }

  /** Links a dSource that must fail with a UserError; `check` runs before the failed dSource is deleted. */
  async function refusedLink(
    name: string,
    parameters: Record<string, unknown>,
    check: () => Promise<void> = async () => undefined,
  ): Promise<RunError> {
    const answer = await engine.client.post<{ dsource: { id: string }; run: { id: string } }>('/dsources', {
      name,
      sourceConfig: sourceConfigId,
      stagingEnvironment: environments[1],
      parameters,
    });
    try {
      const error = await failed(answer);
      expect(error.code).toBe('PLUGIN_USER_ERROR');
      await check();
      return error;
    } finally {
      await engine.client.delete(`/dsources/${answer.dsource.id}`).catch(() => undefined);
    }
  }

  beforeAll(async () => {
    // Mount paths and the source live under a directory the postgres user can traverse (mkdtemp makes 0700 ones).
    work = await makeTempDir('pg');
    await chmod(work.path, 0o755);
    engine = await startEngineFixture({ hosts: 3 });
    source = await startSourceCluster({
      bin,
      dir: join(work.path, 'source'),
      port: await freePort(),
      replicationUser: 'dvx_repl',
      password: "s3cret 'quoted' $(pw)",
    });
    await asPostgres(join(bin, 'pgbench'), [
      '-i',
      '-s',
      '1',
      '-q',
      '-h',
      '127.0.0.1',
      '-p',
      String(source.port),
      '-U',
      'postgres',
      'postgres',
    ]);
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
  }, 300_000);

  afterAll(async () => {
    // Whatever a failed test left: the fake installation, postgres servers by pid, then mounts, then the engine and
    // the files.
    await fakeInstallation?.remove();
    if (work) await stopPostgresAndUnmountUnder(work.path);
    await engine?.stop();
    if (dsourceId) await rm(join('/var/lib/postgresql/.dvx', `pgpass-${dsourceId}`), { force: true });
    await work?.remove();
  }, 180_000);

  it('discovers the installation and the running source cluster; a re-discovery adds nothing', async () => {
    const { repositories } = await engine.client.get<{
      repositories: { id: string; parameters: { binDir: string; version: string } }[];
    }>(`/repositories?environment=${environments[0]}`);
    const repository = repositories.find((candidate) => candidate.parameters.binDir === bin);
    expect(repository, JSON.stringify(repositories)).toBeDefined();
    expect(must(repository, 'repository').parameters.version).toMatch(new RegExp(`^${bin.split('/').at(-2)}\\.`));
    const { sourceConfigs } = await engine.client.get<{
      sourceConfigs: { id: string; parameters: { dataDir: string; port: number } }[];
    }>(`/sourceconfigs?environment=${environments[0]}`);
    const found = sourceConfigs.filter((config) => config.parameters.dataDir === source.dataDir);
    expect(found).toHaveLength(1);
    expect(must(found[0], 'found[0]').parameters.port).toBe(source.port);
    sourceConfigId = must(found[0], 'found[0]').id;

    await succeeded(engine, await engine.client.post(`/environments/${environments[0]}/refresh`));
    // Other clusters on this machine may come and go meanwhile (another suite's); ours keeps its record, and no
    // data directory has two.
    const again = await engine.client.get<{ sourceConfigs: { id: string; parameters: { dataDir: string } }[] }>(
      `/sourceconfigs?environment=${environments[0]}`,
    );
    expect(
      again.sourceConfigs.filter((config) => config.parameters.dataDir === source.dataDir).map((config) => config.id),
    ).toEqual([sourceConfigId]);
    const dataDirs = again.sourceConfigs.map((config) => config.parameters.dataDir);
    expect(new Set(dataDirs).size).toBe(dataDirs.length);
    const reposAgain = await engine.client.get<{ repositories: { id: string }[] }>(
      `/repositories?environment=${environments[0]}`,
    );
    expect(reposAgain.repositories.map((r) => r.id).sort()).toEqual(repositories.map((r) => r.id).sort());
  });

  it('refuses a wrong replication password at link with a UserError, leaving no standby or mount', async () => {
    const mountPath = join(work.path, 'staging-bad');
    const error = await refusedLink(
      'pg-bad-password',
      {
        mountPath,
        replicationUser: source.replicationUser,
        password: 'not the password',
        stagingPort: await freePort(),
      },
      async () => {
        expect(await postmastersUnder(mountPath)).toEqual([]);
        expect((await localMountPoints()).includes(mountPath)).toBe(false);
      },
    );
    expect(error.message).toMatch(/refused the replication user's password/);
    expect(error.action).toMatch(/password/);
    expect(JSON.stringify(error)).not.toContain('not the password');
  });

  it('refuses an unreachable source at link with a UserError', async () => {
    const error = await refusedLink('pg-unreachable', {
      mountPath: join(work.path, 'staging-unreachable'),
      sourcePort: await freePort(),
      replicationUser: source.replicationUser,
      password: source.password,
      stagingPort: await freePort(),
    });
    expect(error.message).toMatch(/cannot be reached/);
    expect(error.action).toMatch(/sourcePort/);
  });

  it('links: base backup into the staging mount, a running standby, a snapshot with lsn, timestamp and version', async () => {
    const answer = await engine.client.post<{ dsource: { id: string }; run: { id: string } }>('/dsources', {
      name: 'pg-source',
      sourceConfig: sourceConfigId,
      stagingEnvironment: environments[1],
      parameters: {
        mountPath: join(work.path, 'staging'),
        replicationUser: source.replicationUser,
        password: source.password,
        stagingPort: await freePort(),
      },
    });
    await succeeded(engine, answer);
    dsourceId = answer.dsource.id;
    const standbys = await postmastersUnder(join(work.path, 'staging'));
    expect(standbys).toHaveLength(1);
    const { snapshots } = await engine.client.get<{
      snapshots: { metadata: { lsn: string; timestamp: string; pgVersion: string; superuser: string } }[];
    }>(`/dsources/${dsourceId}/snapshots`);
    expect(snapshots).toHaveLength(1);
    expect(must(snapshots[0], 'snapshots[0]').metadata).toMatchObject({
      lsn: stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/),
      pgVersion: bin.split('/').at(-2),
      superuser: 'postgres',
    });
    expect(Number.isNaN(Date.parse(must(snapshots[0], 'snapshots[0]').metadata.timestamp))).toBe(false);
    // The password file stays outside the mount, so that no snapshot carries the password.
    const { stdout } = await execFileAsync('grep', ['-rl', '--', 's3cret', join(work.path, 'staging')]).catch(
      (error: { stdout: string }) => ({ stdout: error.stdout }),
    );
    expect(stdout).toBe('');
  });

  it('provisions a VDB that answers queries with the source row counts; writes in it leave the source untouched', async () => {
    vdbPort = await freePort();
    const answer = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'pg-vdb',
      source: dsourceId,
      environment: environments[2],
      parameters: { mountPath: vdbMount(), port: vdbPort },
    });
    await succeeded(engine, answer);
    vdbId = answer.vdb.id;
    for (const table of ['pgbench_accounts', 'pgbench_branches', 'pgbench_tellers'])
      expect(await count(vdbPort, table)).toBe(await count(source.port, table));
    expect(await count(vdbPort, 'pgbench_accounts')).toBe(100_000);
    expect(await vdbQuery('select pg_is_in_recovery()')).toBe('f');

    await vdbQuery(
      'delete from pgbench_accounts where aid <= 1000; create table made_in_vdb (id int); insert into made_in_vdb values (1)',
    );
    expect(await count(vdbPort, 'pgbench_accounts')).toBe(99_000);
    expect(await count(source.port, 'pgbench_accounts')).toBe(100_000);
    expect(await sql(bin, source.port, "select to_regclass('made_in_vdb') is null")).toBe('t');
  });

  it('rewinds to a VDB snapshot: later writes are undone', async () => {
    await succeeded(engine, await engine.client.post(`/vdbs/${vdbId}/snapshot`));
    const { snapshots } = await engine.client.get<{ snapshots: { id: string; metadata: { lsn?: string } }[] }>(
      `/snapshots?of=${vdbId}`,
    );
    const snapshot = must(snapshots.at(-1), 'snapshots.at(-1)');
    expect(snapshot.metadata.lsn).toMatch(/\//);
    await vdbQuery('delete from pgbench_accounts; drop table made_in_vdb');
    expect(await count(vdbPort, 'pgbench_accounts')).toBe(0);
    await succeeded(engine, await engine.client.post(`/vdbs/${vdbId}/rewind`, { snapshot: snapshot.id }));
    expect(await count(vdbPort, 'pgbench_accounts')).toBe(99_000);
    expect(await count(vdbPort, 'made_in_vdb')).toBe(1);
  });

  it('syncs a change of the source and refreshes the VDB to it', async () => {
    await sql(
      bin,
      source.port,
      "create table changed_on_source (note text); insert into changed_on_source values ('after link'); update pgbench_branches set bbalance = 42",
    );
    await succeeded(engine, await engine.client.post(`/dsources/${dsourceId}/sync`, {}));
    const { snapshots } = await engine.client.get<{ snapshots: { metadata: { lsn: string } }[] }>(
      `/dsources/${dsourceId}/snapshots`,
    );
    expect(snapshots).toHaveLength(2);
    await succeeded(engine, await engine.client.post(`/vdbs/${vdbId}/refresh`, {}));
    expect(await vdbQuery('select note from changed_on_source')).toBe('after link');
    expect(await vdbQuery('select bbalance from pgbench_branches')).toBe('42');
    expect(await count(vdbPort, 'pgbench_accounts')).toBe(100_000);
    expect(await vdbQuery("select to_regclass('made_in_vdb') is null")).toBe('t');
  });

  it('resyncs: the standby is rebuilt from a new base backup, where a plain sync keeps it', async () => {
    const staging = join(work.path, 'staging');
    const [before] = await postmastersUnder(staging);
    // A file of ours in the standby's data directory survives a sync and goes with a rebuild.
    const marker = join(must(before, 'before').dataDir, 'dvx-test-marker');
    await writeFile(marker, 'kept by a sync, gone after a resync');
    await succeeded(engine, await engine.client.post(`/dsources/${dsourceId}/sync`, {}));
    expect(await readFile(marker, 'utf8')).toBe('kept by a sync, gone after a resync');

    await sql(bin, source.port, "insert into changed_on_source values ('before resync')");
    await succeeded(engine, await engine.client.post(`/dsources/${dsourceId}/sync`, { resync: true }));
    await expect(readFile(marker, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    const after = await postmastersUnder(staging);
    expect(after).toHaveLength(1);
    expect(must(after[0], 'after[0]').pid).not.toBe(must(before, 'before').pid);
    const { snapshots } = await engine.client.get<{ snapshots: { metadata: { lsn: string } }[] }>(
      `/dsources/${dsourceId}/snapshots`,
    );
    expect(snapshots, JSON.stringify(snapshots.map((snapshot) => snapshot.metadata))).toHaveLength(4);
    // The resync's snapshot is past the row written just before it (the plain sync before had nothing new).
    expect(must(snapshots.at(-1), 'snapshots.at(-1)').metadata.lsn).not.toBe(
      must(snapshots.at(-2), 'snapshots.at(-2)').metadata.lsn,
    );
  });

  it('stops and starts the VDB', async () => {
    await succeeded(engine, await engine.client.post(`/vdbs/${vdbId}/stop`));
    expect(await postgresOnPort(vdbPort)).toEqual([]);
    await succeeded(engine, await engine.client.post(`/vdbs/${vdbId}/start`));
    expect(await count(vdbPort, 'changed_on_source')).toBe(1);
  });

  it('refuses to provision on a port in use with a UserError, leaving no clone mounted', async () => {
    const mountPath = join(work.path, 'vdb-busy-port');
    const answer = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'pg-vdb-busy',
      source: dsourceId,
      environment: environments[2],
      parameters: { mountPath, port: source.port },
    });
    const error = await failed(answer);
    expect(error.code).toBe('PLUGIN_USER_ERROR');
    expect(error.message).toMatch(new RegExp(`Port ${source.port} is already in use`));
    expect(error.action).toMatch(/free port/);
    expect(await postmastersUnder(mountPath)).toEqual([]);
    expect((await localMountPoints()).includes(mountPath)).toBe(false);
    // A failed create leaves no VDB behind: only its run, with the error.
    expect(await engine.runtime.ctx.model.vdbs.get(answer.vdb.id)).toBeNull();
  });

  it('refuses to provision a snapshot onto a repository of another major version with a UserError, starting nothing', async () => {
    const target = must(environments[2], 'environments[2]');
    const major = must(bin.split('/').at(-2), 'the major version in the bin path');
    type Repositories = { repositories: { id: string; parameters: { binDir: string; version: string } }[] };
    const datasets = async () => (await readdir(join(engine.storage.root, 'datasets'))).sort();
    const repositoriesBefore = (
      await engine.client.get<Repositories>(`/repositories?environment=${target}`)
    ).repositories
      .map((repository) => repository.id)
      .sort();
    const fake = await installFakePostgres('99.1');
    fakeInstallation = fake;
    let refusedVdbId: string | undefined;
    try {
      // Discovery finds the other installation as a second repository of the target.
      await succeeded(engine, await engine.client.post(`/environments/${target}/refresh`));
      const { repositories } = await engine.client.get<Repositories>(`/repositories?environment=${target}`);
      const other = repositories.find((candidate) => candidate.parameters.binDir === fake.binDir);
      expect(other, JSON.stringify(repositories)).toBeDefined();
      expect(must(other, 'other').parameters.version).toBe('99.1');
      const { snapshots } = await engine.client.get<{ snapshots: { metadata: { pgVersion: string } }[] }>(
        `/dsources/${dsourceId}/snapshots`,
      );
      expect(must(snapshots.at(-1), 'snapshots.at(-1)').metadata.pgVersion).toBe(major);

      const before = await datasets();
      const mountPath = join(work.path, 'vdb-other-version');
      const port = await freePort();
      const answer = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
        name: 'pg-vdb-other-version',
        source: dsourceId,
        environment: target,
        repository: must(other, 'other').id,
        parameters: { mountPath, port },
      });
      refusedVdbId = answer.vdb.id;
      const error = await failed(answer);
      expect(error.code).toBe('PLUGIN_USER_ERROR');
      // The plugin's check of the snapshot's version against the repository's, naming both.
      expect(error.message).toMatch(
        new RegExp(
          `^The snapshot holds PostgreSQL ${major} data, but repository .*${fake.binDir}.* is PostgreSQL 99\\.$`,
        ),
      );
      expect(error.action).toMatch(
        new RegExp(
          `^Provision onto a repository of PostgreSQL ${major} \\(install it on the target and refresh the environment\\)`,
        ),
      );
      // Refused before anything ran with the other binaries (discovery only asked them their version), and the undo
      // chain left no server, mount or clone.
      expect((await fake.calls()).filter((call) => !/^(postgres|pg_ctl) --version$/.test(call))).toEqual([]);
      expect(await postmastersUnder(mountPath)).toEqual([]);
      expect(await postgresOnPort(port)).toEqual([]);
      expect((await localMountPoints()).includes(mountPath)).toBe(false);
      expect(await datasets()).toEqual(before);
      // The failed VDB is gone by itself, so that nothing holds on to the repository.
      expect(await engine.runtime.ctx.model.vdbs.get(answer.vdb.id)).toBeNull();
      refusedVdbId = undefined;
    } finally {
      // Even when an assertion failed: the VDB would hold on to the dSource (and the repository).
      if (refusedVdbId)
        await engine.client
          .delete<{ run: { id: string } }>(`/vdbs/${refusedVdbId}`)
          .then((removal) => waitForRun(engine.client, removal.run.id, { stream: null }))
          .catch(() => undefined);
      await fake.remove();
      fakeInstallation = undefined;
    }
    // Once the installation is gone, a refresh drops its repository: the target has its repositories of before again.
    await succeeded(engine, await engine.client.post(`/environments/${target}/refresh`));
    const { repositories } = await engine.client.get<Repositories>(`/repositories?environment=${target}`);
    expect(repositories.map((repository) => repository.id).sort()).toEqual(repositoriesBefore);
  });

  it('deletes the VDB: no postgres on its port, no mount, no clone', async () => {
    const { snapshots } = await engine.client.get<{ snapshots: { timeflowId: string }[] }>(`/snapshots?of=${vdbId}`);
    const timeflows = [...new Set(snapshots.map((snapshot) => snapshot.timeflowId))];
    expect(timeflows.length).toBeGreaterThan(0);
    await succeeded(engine, await engine.client.delete(`/vdbs/${vdbId}`));
    expect(await postgresOnPort(vdbPort)).toEqual([]);
    expect(await postmastersUnder(vdbMount())).toEqual([]);
    expect((await localMountPoints()).includes(vdbMount())).toBe(false);
    for (const timeflow of timeflows) expect(await engine.storage.hasDataset(timeflow)).toBe(false);
  });

  it('deletes the dSource: the standby stops and its password file goes', async () => {
    await succeeded(engine, await engine.client.delete(`/dsources/${dsourceId}`));
    expect(await postmastersUnder(join(work.path, 'staging'))).toEqual([]);
    expect((await localMountPoints()).includes(join(work.path, 'staging'))).toBe(false);
    await expect(readFile(join('/var/lib/postgresql/.dvx', `pgpass-${dsourceId}`))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    // The source is untouched by all of it.
    expect(await count(source.port, 'pgbench_accounts')).toBe(100_000);
  });
});
