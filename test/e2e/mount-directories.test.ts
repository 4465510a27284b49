// A mount directory dvx made on a host goes with the mount: a VDB's after `vdb rm` (or a failed provision), a staged
// dSource's staging directory after `dsource rm`. A directory that was there before dvx mounted on it stays.
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRun } from '../../cli/wait-for-run.js';
import { localMountPoints } from '../../storage/local-mounts.js';
import { must } from '../harness/must.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { setUpDsource, succeeded } from './fixture-setup.js';

let engine: EngineFixture;
let dsourceId: string;
let target: string;
const mnt = (name: string) => join(engine.dir, 'mnt', name);
const mounted = async (path: string) => (await localMountPoints()).includes(path);

beforeAll(async () => {
  engine = await startEngineFixture({ retryDeadlineMs: 10_000 });
  const setUp = await setUpDsource(engine, 'dirs-ds');
  dsourceId = setUp.dsourceId;
  target = must(setUp.environments[2], 'environments[2]');
}, 240_000);

afterAll(async () => engine?.stop(), 120_000);

async function provision(name: string, mountLocation: string, parameters: Record<string, unknown> = {}) {
  return engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
    name,
    source: dsourceId,
    environment: target,
    parameters: { mountLocation, ...parameters },
  });
}

describe('mount directories', () => {
  it('one dvx made for a VDB is removed when it is unmounted (disable, delete) and made again on enable', async () => {
    const path = mnt('dirs-vdb');
    expect(existsSync(path)).toBe(false);
    const answer = await provision('dirs-vdb', path);
    await succeeded(engine, answer);
    expect(await mounted(path)).toBe(true);
    expect((await engine.runtime.ctx.model.vdbs.require(answer.vdb.id)).mounts).toEqual([
      { environmentId: target, mountPath: path, createdByDvx: true },
    ]);

    await succeeded(engine, await engine.client.post(`/vdbs/${answer.vdb.id}/disable`));
    expect(existsSync(path)).toBe(false);
    await succeeded(engine, await engine.client.post(`/vdbs/${answer.vdb.id}/enable`));
    expect(await mounted(path)).toBe(true);
    expect(await readdir(path)).toContain('a.txt');

    await succeeded(engine, await engine.client.delete(`/vdbs/${answer.vdb.id}`));
    expect(await mounted(path)).toBe(false);
    expect(existsSync(path)).toBe(false);
    // Only the mount directory itself: its parent (made by mkdir -p too) is not dvx's to judge.
    expect(existsSync(mnt(''))).toBe(true);
  }, 120_000);

  it('one that existed before the VDB stays after it is deleted', async () => {
    const path = mnt('users-own');
    await mkdir(path, { recursive: true });
    const answer = await provision('dirs-own', path);
    await succeeded(engine, answer);
    expect(await mounted(path)).toBe(true);
    expect((await engine.runtime.ctx.model.vdbs.require(answer.vdb.id)).mounts?.[0]?.createdByDvx).toBeUndefined();
    await succeeded(engine, await engine.client.post(`/vdbs/${answer.vdb.id}/disable`));
    expect(existsSync(path)).toBe(true);
    await succeeded(engine, await engine.client.post(`/vdbs/${answer.vdb.id}/enable`));
    await succeeded(engine, await engine.client.delete(`/vdbs/${answer.vdb.id}`));
    expect(await mounted(path)).toBe(false);
    expect(existsSync(path)).toBe(true);
    expect(await readdir(path)).toEqual([]);
  }, 120_000);

  it('one dvx made for a provision that failed is gone with it', async () => {
    const path = mnt('dirs-failed');
    const answer = await provision('dirs-failed', path, { failConfigure: true });
    expect((await waitForRun(engine.client, answer.run.id, { stream: null })).status).toBe('failed');
    expect(await mounted(path)).toBe(false);
    expect(existsSync(path)).toBe(false);
  }, 120_000);

  it("a staged dSource's staging directory dvx made is gone after the dSource is deleted", async () => {
    const staging = mnt('dirs-ds-staging');
    expect(await mounted(staging)).toBe(true);
    expect(
      (await engine.runtime.ctx.model.dsources.require(dsourceId)).stagingMounts?.every((mount) => mount.createdByDvx),
    ).toBe(true);
    await succeeded(engine, await engine.client.delete(`/dsources/${dsourceId}`));
    expect(await mounted(staging)).toBe(false);
    expect(existsSync(staging)).toBe(false);
  }, 120_000);
});
