// A failed create (link, provision) leaves no object behind, only its run with the error; its name is free again.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRun } from '../../cli/wait-for-run.js';
import { localMountPoints } from '../../storage/local-mounts.js';
import { must } from '../harness/must.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { setUpDsource, succeeded } from './fixture-setup.js';

let engine: EngineFixture;
let dsourceId: string;
let environments: string[];

beforeAll(async () => {
  engine = await startEngineFixture({ retryDeadlineMs: 5_000 });
  const setUp = await setUpDsource(engine, 'created-ds');
  dsourceId = setUp.dsourceId;
  environments = setUp.environments;
}, 240_000);

afterAll(async () => engine?.stop(), 120_000);

const datasets = async () => (await readdir(join(engine.storage.root, 'datasets'))).sort();

describe('a failed create', () => {
  it('of a VDB leaves no VDB, hook, clone or mount: only its run, with the error', async () => {
    const { model } = engine.runtime.ctx;
    const before = await datasets();
    const mountPath = join(engine.dir, 'mnt', 'never');
    const answer = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'never',
      source: dsourceId,
      environment: must(environments[2], 'environments[2]'),
      parameters: { mountLocation: mountPath, failConfigure: true },
      hooks: { configureClone: 'true' },
    });
    const run = await waitForRun(engine.client, answer.run.id, { stream: null });
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'PLUGIN_USER_ERROR' });
    expect(await model.vdbs.get(answer.vdb.id)).toBeNull();
    expect(await model.vdbs.find('never')).toBeNull();
    expect(await model.hooks.listBy('objectId', answer.vdb.id)).toEqual([]);
    expect(await model.snapshots.listBy('ownerId', answer.vdb.id)).toEqual([]);
    expect(await model.timeflows.listBy('ownerId', answer.vdb.id)).toEqual([]);
    expect(await datasets()).toEqual(before);
    expect((await localMountPoints()).includes(mountPath)).toBe(false);
    const { vdbs } = await engine.client.get<{ vdbs: { id: string }[] }>('/vdbs');
    expect(vdbs.map((vdb) => vdb.id)).not.toContain(answer.vdb.id);
    // The run is still there to read.
    const shown = await engine.client.get<{ run: { status: string; error?: { message: string } } }>(
      `/runs/${answer.run.id}`,
    );
    expect(shown.run).toMatchObject({
      status: 'failed',
      error: { message: 'The fixture refuses to configure this VDB.' },
    });

    // The name is free again.
    await succeeded(
      engine,
      await engine.client.post<{ run: { id: string } }>('/vdbs', {
        name: 'never',
        source: dsourceId,
        environment: must(environments[2], 'environments[2]'),
        parameters: { mountLocation: mountPath },
      }),
    );
  }, 120_000);

  it('of a dSource leaves no dSource, timeflow, dataset or staging mount: only its run, with the error', async () => {
    const { model } = engine.runtime.ctx;
    const before = await datasets();
    const { repositories } = await engine.client.get<{ repositories: { id: string }[] }>(
      `/repositories?environment=${must(environments[0], 'environments[0]')}`,
    );
    const { sourceConfig } = await engine.client.post<{ sourceConfig: { id: string } }>('/sourceconfigs', {
      repository: must(repositories[0], 'repositories[0]').id,
      parameters: { name: 'gone', path: join(engine.dir, 'no-such-source') },
    });
    const mountPath = join(engine.dir, 'mnt', 'gone-staging');
    const answer = await engine.client.post<{ dsource: { id: string }; run: { id: string } }>('/dsources', {
      name: 'gone',
      sourceConfig: sourceConfig.id,
      stagingEnvironment: environments[1],
      parameters: { mountLocation: mountPath },
    });
    const run = await waitForRun(engine.client, answer.run.id, { stream: null });
    expect(run.status).toBe('failed');
    expect(run.error).toBeDefined();
    expect(await model.dsources.get(answer.dsource.id)).toBeNull();
    expect(await model.dsources.find('gone')).toBeNull();
    expect(await model.timeflows.listBy('ownerId', answer.dsource.id)).toEqual([]);
    expect(await model.snapshots.listBy('ownerId', answer.dsource.id)).toEqual([]);
    expect(await datasets()).toEqual(before);
    expect((await localMountPoints()).includes(mountPath)).toBe(false);
    expect((await engine.client.get<{ run: { status: string } }>(`/runs/${answer.run.id}`)).run.status).toBe('failed');
  }, 120_000);
});
