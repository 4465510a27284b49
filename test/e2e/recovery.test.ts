import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRun } from '../../cli/wait-for-run.js';
import type { RuntimeStatus } from '../../model/runtime-status.js';
import { localMountPoints } from '../../storage/local-mounts.js';
import { waitFor } from '../harness/wait-for.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { setUpDsource } from './fixture-setup.js';
import { must } from '../harness/must.js';

const execFileAsync = promisify(execFile);
let engine: EngineFixture;
let vdbId: string;
let environments: string[] = [];

beforeAll(async () => {
  engine = await startEngineFixture({ health: { intervalMs: 1_000, probeTimeoutMs: 2_000, recoveryBackoffMs: 5_000 } });
  let dsourceId: string;
  ({ dsourceId, environments } = await setUpDsource(engine, 'recover-ds'));
  const provision = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
    name: 'recover-vdb',
    source: dsourceId,
    environment: environments[2],
    parameters: { mountLocation: join(engine.dir, 'mnt', 'recover-vdb') },
  });
  expect((await waitForRun(engine.client, provision.run.id, { stream: null })).status).toBe('succeeded');
  vdbId = provision.vdb.id;
}, 180_000);
afterAll(async () => engine?.stop(), 120_000);

const runtimeOf = async (path: string) => await engine.client.get<Record<string, { runtime?: RuntimeStatus }>>(path);

describe('health monitor and recovery', () => {
  it('marks a VDB UNREACHABLE while its host is down, and after the host comes back without its mounts, remounts it by itself', async () => {
    const mountPath = join(engine.dir, 'mnt', 'recover-vdb');
    await waitFor(
      'the VDB to be seen ACTIVE',
      async () => (must((await runtimeOf(`/vdbs/${vdbId}`)).vdb, 'the VDB').runtime?.state === 'ACTIVE' ? true : null),
      20_000,
    );
    const target = must(engine.ssh.hosts[2], 'engine.ssh.hosts[2]');
    // A reboot: the host goes down and its mounts are gone.
    await target.stop();
    await execFileAsync('umount', [mountPath]);
    const down = await waitFor(
      'the VDB to be UNREACHABLE',
      async () => {
        const { runtime } = must((await runtimeOf(`/vdbs/${vdbId}`)).vdb, 'the VDB');
        return runtime?.state === 'UNREACHABLE' ? runtime : null;
      },
      30_000,
    );
    expect(down.reason).toBeTruthy();
    expect(
      must((await runtimeOf(`/environments/${environments[2]}`)).environment, 'the environment').runtime?.state,
    ).toBe('UNREACHABLE');

    await target.start();
    const back = await waitFor(
      'the VDB to be ACTIVE again',
      async () => {
        const { runtime } = must((await runtimeOf(`/vdbs/${vdbId}`)).vdb, 'the VDB');
        return runtime?.state === 'ACTIVE' && runtime.recoveryRunId ? runtime : null;
      },
      60_000,
    );
    const recovery = await engine.runtime.ctx.model.runs.get(must(back.recoveryRunId, 'back.recoveryRunId'));
    expect(recovery).toMatchObject({ kind: 'vdb-enable', status: 'succeeded', requestedBy: 'health-monitor' });
    expect((await localMountPoints()).includes(mountPath)).toBe(true);
    expect(await readFile(join(mountPath, 'a.txt'), 'utf8')).toBe('a\n');
  });
});
