import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRun } from '../../cli/wait-for-run.js';
import { localMountPoints } from '../../storage/local-mounts.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { setUpDsource } from './fixture-setup.js';
import { must } from '../harness/must.js';

let engine: EngineFixture;
let dsourceId: string;
let vdbId: string;
let environments: string[] = [];
const markers = () => join(engine.dir, 'hook-markers');

async function run(answer: { run: { id: string } }) {
  return waitForRun(engine.client, answer.run.id, { stream: null });
}

beforeAll(async () => {
  engine = await startEngineFixture();
  await mkdir(markers(), { recursive: true });
  ({ dsourceId, environments } = await setUpDsource(engine, 'hooked-ds'));
}, 180_000);
afterAll(async () => engine?.stop(), 120_000);

describe('user hooks', () => {
  it('runs configureClone given at provision on the target, with the VDB details as variables', async () => {
    const answer = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'hooked-vdb',
      source: dsourceId,
      environment: environments[2],
      parameters: { mountLocation: join(engine.dir, 'mnt', 'hooked-vdb') },
      hooks: {
        configureClone: `printf '%s|%s|%s|%s' "$DVX_HOOK_EVENT" "$DVX_OBJECT_NAME" "$DVX_MOUNT_PATH" "$DVX_ENVIRONMENT" > "${join(engine.dir, 'hook-markers', 'configure-clone')}"`,
      },
    });
    expect((await run(answer)).status).toBe('succeeded');
    vdbId = answer.vdb.id;
    expect(await readFile(join(markers(), 'configure-clone'), 'utf8')).toBe(
      `configureClone|hooked-vdb|${join(engine.dir, 'mnt', 'hooked-vdb')}|${engine.tourHost(2).name}`,
    );
  });

  it('a failing pre-hook aborts the run before it changes anything', async () => {
    const before = (await engine.client.get<{ vdb: { currentTimeflowId: string } }>(`/vdbs/${vdbId}`)).vdb;
    await engine.client.request('PUT', `/hooks/${vdbId}/preRewind`, { script: 'echo "not today" >&2; exit 3' });
    const snapshots = (await engine.client.get<{ snapshots: { id: string }[] }>(`/vdbs/${vdbId}/snapshots`)).snapshots;
    const rewind = await run(
      await engine.client.post(`/vdbs/${vdbId}/rewind`, { snapshot: must(snapshots[0], 'snapshots[0]').id }),
    );
    expect(rewind.status).toBe('failed');
    expect(rewind.error).toMatchObject({ code: 'HOOK_FAILED' });
    expect(rewind.error?.output).toContain('not today');
    expect(rewind.steps.map((step) => step.stepId)).toEqual(['preRewindHook', 'recordFailure']);
    const after = (await engine.client.get<{ vdb: { currentTimeflowId: string; status: string } }>(`/vdbs/${vdbId}`))
      .vdb;
    expect(after).toMatchObject({ currentTimeflowId: before.currentTimeflowId, status: 'READY' });
    expect((await localMountPoints()).includes(join(engine.dir, 'mnt', 'hooked-vdb'))).toBe(true);
    await engine.client.delete(`/hooks/${vdbId}/preRewind`);
  });

  it('a failing post-hook is reported on the object but does not undo the run', async () => {
    await engine.client.request('PUT', `/hooks/hooked-vdb/postSnapshot`, { script: 'exit 1' });
    const count = (await engine.client.get<{ snapshots: unknown[] }>(`/vdbs/${vdbId}/snapshots`)).snapshots.length;
    const snapshot = await run(await engine.client.post(`/vdbs/${vdbId}/snapshot`));
    expect(snapshot.status).toBe('succeeded');
    expect((await engine.client.get<{ snapshots: unknown[] }>(`/vdbs/${vdbId}/snapshots`)).snapshots.length).toBe(
      count + 1,
    );
    const { vdb } = await engine.client.get<{ vdb: { lastError: { code: string; message: string } } }>(
      `/vdbs/${vdbId}`,
    );
    expect(vdb.lastError).toMatchObject({ code: 'HOOK_FAILED' });
    expect(vdb.lastError.message).toContain('postSnapshot hook of hooked-vdb');
  });

  it('a failing preSync hook leaves the dSource without a new snapshot; hooks of the wrong kind are refused', async () => {
    await engine.client.request('PUT', `/hooks/hooked-ds/preSync`, { script: 'exit 2' });
    const before = (await engine.client.get<{ snapshots: unknown[] }>(`/dsources/${dsourceId}/snapshots`)).snapshots
      .length;
    const sync = await run(await engine.client.post(`/dsources/${dsourceId}/sync`, {}));
    expect(sync.status).toBe('failed');
    expect(
      (await engine.client.get<{ snapshots: unknown[] }>(`/dsources/${dsourceId}/snapshots`)).snapshots.length,
    ).toBe(before);
    await expect(engine.client.request('PUT', `/hooks/hooked-ds/preStart`, { script: 'true' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    const { hooks } = await engine.client.get<{ hooks: { event: string }[] }>('/hooks?of=hooked-ds');
    expect(hooks.map((hook) => hook.event)).toEqual(['preSync']);
  });
});
