import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRun } from '../../cli/wait-for-run.js';
import type { RuntimeStatus } from '../../model/runtime-status.js';
import { localMountPoints } from '../../storage/local-mounts.js';
import { waitFor } from '../harness/wait-for.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';

const execFileAsync = promisify(execFile);
let engine: EngineFixture;
let vdbId: string;
const environments: string[] = [];

beforeAll(async () => {
  engine = await startEngineFixture({ health: { intervalMs: 1_000, probeTimeoutMs: 2_000, recoveryBackoffMs: 5_000 } });
  await engine.client.post('/plugins', JSON.parse(await readFile(await engine.build('test/e2e/fixture-plugin'), 'utf8')));
  for (const index of [0, 1, 2]) {
    const host = engine.tourHost(index);
    const answer = await engine.client.post<{ environment: { id: string }; run: { id: string } }>('/environments', { name: host.name, host: host.host, port: host.port, user: host.user, privateKey: host.privateKey });
    expect((await waitForRun(engine.client, answer.run.id, { stream: null })).status).toBe('succeeded');
    environments.push(answer.environment.id);
  }
  const sourceDir = join(engine.ssh.hosts[0]!.home, 'recover');
  await mkdir(sourceDir, { recursive: true });
  await writeFile(join(sourceDir, 'data.txt'), 'precious\n');
  const { repositories } = await engine.client.get<{ repositories: { id: string }[] }>(`/repositories?environment=${environments[0]}`);
  const { sourceConfig } = await engine.client.post<{ sourceConfig: { id: string } }>('/sourceconfigs', { repository: repositories[0]!.id, parameters: { name: 'recover', path: sourceDir } });
  const link = await engine.client.post<{ dsource: { id: string }; run: { id: string } }>('/dsources', { name: 'recover-ds', sourceConfig: sourceConfig.id, stagingEnvironment: environments[1], parameters: { mountLocation: join(engine.dir, 'mnt', 'recover-staging') } });
  expect((await waitForRun(engine.client, link.run.id, { stream: null })).status).toBe('succeeded');
  const provision = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', { name: 'recover-vdb', source: link.dsource.id, environment: environments[2], parameters: { mountLocation: join(engine.dir, 'mnt', 'recover-vdb') } });
  expect((await waitForRun(engine.client, provision.run.id, { stream: null })).status).toBe('succeeded');
  vdbId = provision.vdb.id;
}, 180_000);
afterAll(async () => engine?.stop(), 120_000);

const runtimeOf = async (path: string) => (await engine.client.get<Record<string, { runtime?: RuntimeStatus }>>(path));

describe('health monitor and recovery', () => {
  it('marks a VDB UNREACHABLE while its host is down, and after the host comes back without its mounts, remounts it by itself', async () => {
    const mountPath = join(engine.dir, 'mnt', 'recover-vdb');
    await waitFor('the VDB to be seen ACTIVE', async () => ((await runtimeOf(`/vdbs/${vdbId}`)).vdb!.runtime?.state === 'ACTIVE' ? true : null), 20_000);
    const target = engine.ssh.hosts[2]!;
    // A reboot: the host goes down and its mounts are gone.
    await target.stop();
    await execFileAsync('umount', [mountPath]);
    const down = await waitFor('the VDB to be UNREACHABLE', async () => {
      const { vdb } = await runtimeOf(`/vdbs/${vdbId}`);
      return vdb!.runtime?.state === 'UNREACHABLE' ? vdb!.runtime : null;
    }, 30_000);
    expect(down.reason).toBeTruthy();
    expect((await runtimeOf(`/environments/${environments[2]}`)).environment!.runtime?.state).toBe('UNREACHABLE');

    await target.start();
    const back = await waitFor('the VDB to be ACTIVE again', async () => {
      const { vdb } = await runtimeOf(`/vdbs/${vdbId}`);
      return vdb!.runtime?.state === 'ACTIVE' && vdb!.runtime.recoveryRunId ? vdb!.runtime : null;
    }, 60_000);
    const recovery = await engine.runtime.ctx.model.runs.get(back.recoveryRunId!);
    expect(recovery).toMatchObject({ kind: 'vdb-enable', status: 'succeeded', requestedBy: 'health-monitor' });
    expect((await localMountPoints()).includes(mountPath)).toBe(true);
    expect(await readFile(join(mountPath, 'data.txt'), 'utf8')).toBe('precious\n');
  });
});
