import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIRSYNC_TOUR_PLUGIN, DIRTREE_TOUR_PLUGIN } from '../../cli/quickstart/tour-plugins.js';
import { runTour, type TourPlugin } from '../../cli/quickstart/tour.js';
import { writeSampleData } from '../../cli/quickstart/sample-data.js';
import { localMountPoints } from '../../storage/local-mounts.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { must } from '../harness/must.js';

let engine: EngineFixture;

beforeAll(async () => {
  engine = await startEngineFixture();
}, 120_000);
afterAll(async () => engine?.stop(), 120_000);

async function tour(name: string, plugin: Omit<TourPlugin, 'artifactPath'>, pluginDir: string) {
  const sourceDir = join(must(engine.ssh.hosts[0], 'engine.ssh.hosts[0]').home, 'data', name);
  await mkdir(sourceDir, { recursive: true });
  await writeSampleData(sourceDir, 60);
  const report = await runTour({
    client: engine.client,
    plugin: { ...plugin, artifactPath: await engine.build(pluginDir) },
    hosts: { source: engine.tourHost(0), staging: engine.tourHost(1), target: engine.tourHost(2) },
    sourceDir,
    workDir: join(engine.dir, 'mnt'),
    prefix: name,
  });
  // Nothing of the deleted VDB is left: no mount under the work dir, no clone in the pool, no record.
  expect(
    (await localMountPoints()).filter((mount) => mount.startsWith(join(engine.dir, 'mnt')) && mount.includes('-vdb')),
  ).toEqual([]);
  const vdbTimeflows = (await engine.runtime.ctx.model.timeflows.list()).filter(
    (timeflow) => timeflow.ownerId === report.vdb.id,
  );
  expect(vdbTimeflows).toEqual([]);
  expect(await engine.runtime.ctx.model.vdbs.get(report.vdb.id)).toBeNull();
  await expect(engine.client.get(`/vdbs/${report.vdb.id}`)).rejects.toMatchObject({ code: 'NOT_FOUND' });

  // Then the dSource goes too, with its storage.
  const datasetsBefore = await readdir(join(engine.storage.root, 'datasets'));
  const answer = await engine.client.delete<{ run: { id: string } }>(`/dsources/${report.dsource.id}`);
  const { waitForRun } = await import('../../cli/wait-for-run.js');
  expect((await waitForRun(engine.client, answer.run.id, { stream: null })).status).toBe('succeeded');
  const datasetsAfter = await readdir(join(engine.storage.root, 'datasets'));
  expect(datasetsAfter.length).toBeLessThan(datasetsBefore.length);
  expect(await engine.runtime.ctx.model.snapshots.listBy('ownerId', report.dsource.id)).toEqual([]);
  return report;
}

describe('the tour, end to end on three sshd hosts and a btrfs pool', () => {
  it('staged plugin (dirtree): link, sync, provision, write, snapshot, rewind, refresh, rewind across timeflows, stop/start, disable/enable, delete', async () => {
    const report = await tour('staged', DIRTREE_TOUR_PLUGIN, 'plugins/dirtree');
    expect(report.steps.map((step) => step.step)).toContain('rewind across timeflows (undo refresh)');
  });

  it('direct plugin (dirsync, runSync): the same tour', async () => {
    const report = await tour('direct', DIRSYNC_TOUR_PLUGIN, 'plugins/dirsync');
    expect(must(report.steps.at(-1), 'report.steps.at(-1)').step).toBe('delete the VDB');
  });
});
