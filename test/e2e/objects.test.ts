import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRun } from '../../cli/wait-for-run.js';
import type { DvxError } from '../../errors/index.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { must } from '../harness/must.js';

let engine: EngineFixture;
const environments: string[] = [];

async function succeeded(answer: { run: { id: string } }) {
  const run = await waitForRun(engine.client, answer.run.id, { stream: null });
  expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
  return run;
}

async function refused(promise: Promise<unknown>): Promise<DvxError> {
  try {
    await promise;
  } catch (error) {
    return error as DvxError;
  }
  throw new Error('expected the request to be refused');
}

beforeAll(async () => {
  engine = await startEngineFixture();
  const artifact = JSON.parse(await readFile(await engine.build('test/e2e/fixture-plugin'), 'utf8')) as unknown;
  await engine.client.post('/plugins', artifact);
}, 180_000);
afterAll(async () => engine?.stop(), 120_000);

describe('environments', () => {
  it('add probes the host, pins its key and discovers; a refresh reconciles without duplicates', async () => {
    for (const index of [0, 1, 2]) {
      const host = engine.tourHost(index);
      const answer = await engine.client.post<{
        environment: { id: string; hostKey: { fingerprint: string }; credentials: unknown };
        run: { id: string };
      }>('/environments', {
        name: host.name,
        host: host.host,
        port: host.port,
        user: host.user,
        privateKey: host.privateKey,
      });
      expect(answer.environment.credentials).toEqual({ type: 'privateKey' });
      await succeeded(answer);
      environments.push(answer.environment.id);
    }
    const { environment } = await engine.client.get<{
      environment: {
        status: string;
        facts: { user: string; rsyncVersion: string | null; canMount: boolean };
        hostKey: { key: string };
      };
    }>(`/environments/${environments[0]}`);
    expect(environment.status).toBe('ACTIVE');
    expect(environment.facts).toMatchObject({ user: 'root', canMount: true });
    expect(environment.facts.rsyncVersion).toMatch(/^\d+\.\d+/);
    expect(environment.hostKey.key).toBe(must(engine.ssh.hosts[0], 'engine.ssh.hosts[0]').hostKey);

    const before = await engine.client.get<{ repositories: { id: string }[] }>('/repositories');
    await succeeded(await engine.client.post(`/environments/${environments[0]}/refresh`));
    await succeeded(await engine.client.post(`/environments/${environments[0]}/refresh`));
    const after = await engine.client.get<{ repositories: { id: string }[] }>('/repositories');
    expect(after.repositories.map((r) => r.id).sort()).toEqual(before.repositories.map((r) => r.id).sort());
    expect(after.repositories.length).toBe(3);
  });

  it('refuses a second environment of the same name, and a wrong expected host key, changing nothing', async () => {
    const host = engine.tourHost(0);
    const duplicate = await refused(
      engine.client.post('/environments', {
        name: host.name,
        host: host.host,
        port: host.port,
        user: host.user,
        privateKey: host.privateKey,
      }),
    );
    expect(duplicate).toMatchObject({ code: 'VALIDATION_FAILED' });
    const wrongKey = await refused(
      engine.client.post('/environments', {
        name: 'other',
        host: host.host,
        port: host.port,
        user: host.user,
        privateKey: host.privateKey,
        hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      }),
    );
    expect(wrongKey.message).toMatch(/presented host key SHA256:/);
    const bad = await refused(engine.client.post('/environments', { name: 'x', host: host.host, user: 'root' }));
    expect(bad).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await engine.client.get<{ environments: unknown[] }>('/environments')).environments).toHaveLength(3);
  });
});

describe('source configs, dSources, VDBs and snapshots', () => {
  let sourceConfigId: string;
  let dsourceId: string;

  it('validates a manual source config against the plugin schema and refuses a duplicate identity', async () => {
    const { repositories } = await engine.client.get<{ repositories: { id: string }[] }>(
      `/repositories?environment=${environments[0]}`,
    );
    const bad = await refused(
      engine.client.post('/sourceconfigs', {
        repository: must(repositories[0], 'repositories[0]').id,
        parameters: { name: 'x', path: 42 },
      }),
    );
    expect(bad).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((bad.details as { issues: { pointer: string }[] }).issues.map((issue) => issue.pointer)).toContain(
      '/parameters/path',
    );
    const sourceDir = join(must(engine.ssh.hosts[0], 'engine.ssh.hosts[0]').home, 'objects');
    await mkdir(sourceDir, { recursive: true });
    await writeFile(join(sourceDir, 'f.txt'), 'f\n');
    const { sourceConfig } = await engine.client.post<{ sourceConfig: { id: string; discovered: boolean } }>(
      '/sourceconfigs',
      { repository: must(repositories[0], 'repositories[0]').id, parameters: { name: 'objects', path: sourceDir } },
    );
    expect(sourceConfig.discovered).toBe(false);
    sourceConfigId = sourceConfig.id;
    const again = await refused(
      engine.client.post('/sourceconfigs', {
        repository: must(repositories[0], 'repositories[0]').id,
        parameters: { name: 'other name', path: sourceDir },
      }),
    );
    expect(again.message).toMatch(/already has this source config/);
    // Re-discovery keeps source configs added by hand.
    await succeeded(await engine.client.post(`/environments/${environments[0]}/refresh`));
    expect(
      (await engine.client.get<{ sourceConfigs: { id: string }[] }>('/sourceconfigs')).sourceConfigs.map((c) => c.id),
    ).toContain(sourceConfigId);
  });

  it('answers 409 naming the run that holds an object, and refuses deletions that would break dependents', async () => {
    const link = await engine.client.post<{ dsource: { id: string }; run: { id: string } }>('/dsources', {
      name: 'objects-ds',
      sourceConfig: sourceConfigId,
      stagingEnvironment: environments[1],
      parameters: { mountLocation: join(engine.dir, 'mnt', 'objects-staging') },
    });
    dsourceId = link.dsource.id;
    const linking = await refused(engine.client.post(`/dsources/${dsourceId}/sync`, {}));
    expect(linking).toMatchObject({ code: 'CONFLICT' });
    expect(linking.action).toContain(link.run.id);
    await succeeded(link);

    const provision = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'objects-vdb',
      source: dsourceId,
      environment: environments[2],
      parameters: { mountLocation: join(engine.dir, 'mnt', 'objects-vdb') },
    });
    await succeeded(provision);
    const snapshotRun = await engine.client.post<{ run: { id: string } }>('/vdbs/objects-vdb/snapshot');
    const locked = await refused(engine.client.post('/vdbs/objects-vdb/stop'));
    expect(locked).toMatchObject({ code: 'OBJECT_LOCKED' });
    expect(locked.message).toContain(snapshotRun.run.id);
    await succeeded(snapshotRun);
    const [snapshot] = (await engine.client.get<{ snapshots: { id: string }[] }>(`/dsources/${dsourceId}/snapshots`))
      .snapshots;
    const snapshotRefused = await refused(engine.client.delete(`/snapshots/${must(snapshot, 'snapshot').id}`));
    expect(snapshotRefused).toMatchObject({ code: 'HAS_DEPENDENTS' });
    expect(snapshotRefused.message).toContain('objects-vdb');
    const dsourceRefused = await refused(engine.client.delete(`/dsources/${dsourceId}`));
    expect(dsourceRefused).toMatchObject({ code: 'HAS_DEPENDENTS' });
    expect(dsourceRefused.message).toContain('VDB "objects-vdb"');

    // A newer sync's snapshot has no dependents and can go; its storage goes with it.
    await succeeded(await engine.client.post(`/dsources/${dsourceId}/sync`, {}));
    const newest = must(
      (
        await engine.client.get<{ snapshots: { id: string; path: string }[] }>(`/dsources/${dsourceId}/snapshots`)
      ).snapshots.at(-1),
      'the newest snapshot',
    );
    await engine.client.delete(`/snapshots/${newest.id}`);
    expect(await engine.storage.hasSnapshot(newest.id)).toBe(false);
    await expect(engine.client.delete(`/snapshots/${newest.id}`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses requests the object state does not allow, saying what to do', async () => {
    const stop = await engine.client.post<{ run: { id: string } }>('/vdbs/objects-vdb/stop');
    await succeeded(stop);
    const again = await refused(engine.client.post('/vdbs/objects-vdb/stop'));
    expect(again).toMatchObject({ code: 'CONFLICT', message: 'VDB objects-vdb is already stopped.' });
    await succeeded(await engine.client.post('/vdbs/objects-vdb/disable'));
    const snapshotDisabled = await refused(engine.client.post('/vdbs/objects-vdb/snapshot'));
    expect(snapshotDisabled.action).toMatch(/dvx vdb enable objects-vdb/);
  });
});

describe('host keys', () => {
  it('a host whose key changed is refused with HOST_KEY_MISMATCH and the environment is marked FAILED', async () => {
    const host = must(engine.ssh.hosts[0], 'engine.ssh.hosts[0]');
    await host.rotateHostKey();
    await host.restart();
    const answer = await engine.client.post<{ run: { id: string } }>(`/environments/${environments[0]}/refresh`);
    const run = await waitForRun(engine.client, answer.run.id, { stream: null });
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'HOST_KEY_MISMATCH' });
    const { environment } = await engine.client.get<{ environment: { status: string; lastError: { code: string } } }>(
      `/environments/${environments[0]}`,
    );
    expect(environment).toMatchObject({ status: 'FAILED', lastError: { code: 'HOST_KEY_MISMATCH' } });
  });
});
