// What dvx records of a VDB and its host follows what the lifecycle did and what the host says (issue 12, section 2),
// and the health monitor writes a record only when what it sees changes. The monitor's rounds are taken by hand
// (check()), so that every reading is one the test waited for. Run with plugins/dirtree and the e2e fixture plugin
// (the same virtual operations, its status a mountpoint check).
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBash, SshConnectionPool } from '../../hosts/index.js';
import { silentLogger } from '../../log/logger.js';
import { BindMountTransport } from '../../storage/index.js';
import { localMountPoints } from '../../storage/local-mounts.js';
import { HealthMonitor } from '../../workers/health-monitor.js';
import { must } from '../harness/must.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { refused, snapshotsOf, succeeded } from './fixture-setup.js';

const execFileAsync = promisify(execFile);

describe.each(['plugins/dirtree', 'test/e2e/fixture-plugin'])('with %s', (pluginDir) => {
  let engine: EngineFixture;
  let hosts: SshConnectionPool;
  let monitor: HealthMonitor;
  let dsourceId: string;
  let vdbId: string;
  let environments: string[] = [];
  const mountPath = () => join(engine.dir, 'mnt', 'state-vdb');

  const vdbRecord = async () => must(await engine.runtime.ctx.model.vdbs.get(vdbId), 'the VDB');
  const environmentView = async (id: string) =>
    (await engine.client.get<{ environment: { status: string; runtime?: { state: string } } }>(`/environments/${id}`))
      .environment;
  const act = async (action: string, body?: object) =>
    succeeded(engine, await engine.client.post<{ run: { id: string } }>(`/vdbs/${vdbId}/${action}`, body));

  beforeAll(async () => {
    engine = await startEngineFixture({ health: false });
    const artifact = JSON.parse(await readFile(await engine.build(pluginDir), 'utf8')) as unknown;
    await engine.client.post('/plugins', artifact);
    environments = [];
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
    const sourceDir = join(must(engine.ssh.hosts[0], 'engine.ssh.hosts[0]').home, 'state-ds');
    await mkdir(sourceDir, { recursive: true });
    await writeFile(join(sourceDir, 'a.txt'), 'a\n');
    const { repositories } = await engine.client.get<{ repositories: { id: string }[] }>(
      `/repositories?environment=${environments[0]}`,
    );
    const { sourceConfig } = await engine.client.post<{ sourceConfig: { id: string } }>('/sourceconfigs', {
      repository: must(repositories[0], 'repositories[0]').id,
      parameters: { name: 'state-ds', path: sourceDir },
    });
    const link = await engine.client.post<{ dsource: { id: string }; run: { id: string } }>('/dsources', {
      name: 'state-ds',
      sourceConfig: sourceConfig.id,
      stagingEnvironment: environments[1],
      parameters: { mountLocation: join(engine.dir, 'mnt', 'state-ds-staging') },
    });
    await succeeded(engine, link);
    dsourceId = link.dsource.id;
    const provision = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'state-vdb',
      source: dsourceId,
      environment: environments[2],
      parameters: { mountLocation: mountPath() },
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
  }, 180_000);
  afterAll(async () => {
    await hosts?.close();
    await engine?.stop();
  }, 120_000);

  describe('a VDB is recorded as the host has it', () => {
    it('after disable then enable it is recorded running, and stop is accepted', async () => {
      expect((await vdbRecord()).running).toBe(true);
      await act('disable');
      expect((await vdbRecord()).running).toBe(false);
      await act('enable');
      expect((await vdbRecord()).running).toBe(true);
      expect((await monitor.check()).vdbs[vdbId]).toBe('ACTIVE');
      expect((await vdbRecord()).running).toBe(true);
      await act('stop');
      expect((await vdbRecord()).running).toBe(false);
      // Neither plugin has a stop operation: nothing on the host ends, so its ACTIVE status does not undo the stop.
      expect((await monitor.check()).vdbs[vdbId]).toBe('ACTIVE');
      expect((await vdbRecord()).running).toBe(false);
      await act('start');
      expect((await vdbRecord()).running).toBe(true);
    });

    it('after a rewind and after a refresh of a stopped VDB, whose configure brings it up, it is recorded running', async () => {
      await act('snapshot');
      const snapshot = must((await snapshotsOf(engine, vdbId)).at(-1), 'a snapshot of the VDB');
      await act('stop');
      await act('rewind', { snapshot: snapshot.id });
      expect((await vdbRecord()).running).toBe(true);
      await act('stop');
      await act('refresh', {});
      expect((await vdbRecord()).running).toBe(true);
      expect((await localMountPoints()).includes(mountPath())).toBe(true);
    });

    it('whose storage vanished (the database is gone) is INACTIVE and not running, and a start brings it back', async () => {
      if (!(await vdbRecord()).running) await act('start');
      await execFileAsync('umount', [mountPath()]);
      expect((await monitor.check()).vdbs[vdbId]).toBe('INACTIVE');
      expect(await vdbRecord()).toMatchObject({ running: false, runtime: { state: 'INACTIVE' } });
      await act('start');
      expect((await localMountPoints()).includes(mountPath())).toBe(true);
      expect((await vdbRecord()).running).toBe(true);
      expect((await monitor.check()).vdbs[vdbId]).toBe('ACTIVE');
      expect(await vdbRecord()).toMatchObject({ running: true, runtime: { state: 'ACTIVE' } });
      // Running as the host says: a second start is refused.
      const error = await refused(engine.client.post(`/vdbs/${vdbId}/start`));
      expect(error.message).toMatch(/already running/);
      expect(error.action).toMatch(/health checks have found it ACTIVE since/);
    });

    it('whose host is down shows UNREACHABLE, and so does its environment, until the host is back', async () => {
      const target = must(engine.ssh.hosts[2], 'engine.ssh.hosts[2]');
      await target.stop();
      try {
        const report = await monitor.check();
        expect(report.vdbs[vdbId]).toBe('UNREACHABLE');
        expect(report.environments[must(environments[2], 'environments[2]')]).toBe('UNREACHABLE');
        expect(await environmentView(must(environments[2], 'environments[2]'))).toMatchObject({
          status: 'UNREACHABLE',
          runtime: { state: 'UNREACHABLE' },
        });
        expect((await environmentView(must(environments[1], 'environments[1]'))).status).toBe('ACTIVE');
      } finally {
        await target.start();
      }
      expect((await monitor.check()).vdbs[vdbId]).toBe('ACTIVE');
      expect(await environmentView(must(environments[2], 'environments[2]'))).toMatchObject({
        status: 'ACTIVE',
        runtime: { state: 'ACTIVE' },
      });
    });
  });

  describe('the health monitor', () => {
    it('writes no record while nothing changes', async () => {
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

    it('asks the plugins of statusChecksPerRound VDBs a round, in turn, a VDB a run worked on first', async () => {
      const { model, secrets } = engine.runtime.ctx;
      const { rev: _rev, createdAt: _createdAt, updatedAt: _updatedAt, ...fields } = await vdbRecord();
      // A second record of the same VDB (same host, same mount): a VDB the monitor checks like the first.
      const twin = await model.vdbs.create({ ...fields, id: `${vdbId}-twin`, name: 'state-vdb-twin' });
      try {
        const oneAtATime = new HealthMonitor(
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
          { probeTimeoutMs: 2_000, autoRecover: false, statusChecksPerRound: 1 },
        );
        const rounds: string[][] = [];
        for (let round = 0; round < 3; round += 1) {
          const report = await oneAtATime.check();
          // Both are checked on their host every round, whoever's plugin is asked.
          expect(report.vdbs).toEqual({ [vdbId]: 'ACTIVE', [twin.id]: 'ACTIVE' });
          rounds.push(report.pluginStatuses);
        }
        expect(rounds.map((asked) => asked.length)).toEqual([1, 1, 1]);
        expect(new Set(rounds.slice(0, 2).flat())).toEqual(new Set([vdbId, twin.id]));
        expect(rounds[2]).toEqual(rounds[0]);
        // The one asked last comes first again once a run has worked on it.
        const askedLast = must(rounds[2]?.[0], 'the VDB asked last');
        await model.vdbs.update(askedLast, () => ({ lastRunId: 'a-newer-run' }));
        expect((await oneAtATime.check()).pluginStatuses).toEqual([askedLast]);
      } finally {
        await model.vdbs.delete(twin.id);
      }
    });
  });
});
