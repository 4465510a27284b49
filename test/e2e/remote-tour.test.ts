import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIRSYNC_TOUR_PLUGIN, DIRTREE_TOUR_PLUGIN } from '../../cli/quickstart/tour-plugins.js';
import { runTour, type TourHost, type TourPlugin } from '../../cli/quickstart/tour.js';
import { treeDigest } from '../../cli/quickstart/tree-digest.js';
import { writeSampleData } from '../../cli/quickstart/sample-data.js';
import { waitForRun } from '../../cli/wait-for-run.js';
import { startIsolatedHosts, type TestIsolatedHost, type TestIsolatedHosts } from '../harness/isolated-hosts.js';
import { isolatedHostFiles } from '../harness/isolated-host-files.js';
import { freePort } from '../harness/free-port.js';
import { must } from '../harness/must.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';

let isolated: TestIsolatedHosts;
let engine: EngineFixture;
beforeAll(async () => {
  // The staging host pulls the source host's files itself (rsync over ssh): the hosts reach each other.
  isolated = await startIsolatedHosts(3, { routed: true });
  engine = await startEngineFixture({
    sftp: { listenAddresses: isolated.hosts.map((host) => host.engineAddress), port: await freePort() },
  });
}, 120_000);
afterAll(async () => {
  await engine?.stop();
  await isolated?.stopAll();
}, 120_000);

const WORK_DIR = '/srv/dvx';
const host = (index: number): TestIsolatedHost => must(isolated.hosts[index], `isolated host ${index}`);
const tourHost = (index: number): TourHost => ({
  name: `remote-${host(index).name}`,
  host: host(index).address.host,
  port: host(index).address.port,
  user: host(index).address.user,
  privateKey: must(host(index).credentials.privateKey, 'the host key'),
});

const mountsUnder = async (on: TestIsolatedHost, dir: string) =>
  (await on.exec('findmnt -rn -o TARGET,FSTYPE | grep -F -- "$D/" || true', { D: dir })).stdout;

async function tour(name: string, plugin: Omit<TourPlugin, 'artifactPath'>, pluginDir: string) {
  const sourceDir = `/root/data/${name}`;
  // The dataset is on the source host's disk only.
  await writeSampleData(join(host(0).rootfs, sourceDir), 60);
  const report = await runTour({
    client: engine.client,
    plugin: { ...plugin, artifactPath: await engine.build(pluginDir) },
    hosts: { source: tourHost(0), staging: tourHost(1), target: tourHost(2) },
    sourceDir,
    workDir: WORK_DIR,
    prefix: name,
    log: (line) => process.env.DVX_TOUR_LOG && console.log(line),
    files: { source: isolatedHostFiles(host(0)), target: isolatedHostFiles(host(2)) },
  });

  const environments = (
    await engine.client.get<{ environments: { name: string; mountTransport: { kind: string } | null }[] }>(
      '/environments',
    )
  ).environments;
  for (const index of [1, 2])
    expect(environments.find((environment) => environment.name === tourHost(index).name)?.mountTransport?.kind).toBe(
      'sshfs',
    );
  // The deleted VDB left nothing on the target host nor in the engine's SFTP server.
  expect(await mountsUnder(host(2), WORK_DIR)).toBe('');
  expect(await engine.runtime.ctx.model.vdbs.get(report.vdb.id)).toBeNull();
  return report;
}

async function deleteDsource(id: string) {
  const answer = await engine.client.delete<{ run: { id: string } }>(`/dsources/${id}`);
  expect((await waitForRun(engine.client, answer.run.id, { stream: null })).status).toBe('succeeded');
  expect(await mountsUnder(host(1), WORK_DIR)).toBe('');
  expect(await engine.runtime.sftp.exportIds()).toEqual([]);
}

describe('the tour with source, staging and target each an isolated host (sshfs mounts)', () => {
  it('staged plugin (dirtree): the staging mount on the staging host holds the source, the VDB on the target host', async () => {
    const report = await tour('staged', DIRTREE_TOUR_PLUGIN, 'plugins/dirtree');
    expect(report.steps.map((step) => step.step)).toContain('rewind across timeflows (undo refresh)');
    // The staging host sees, through its sshfs mount, what the source host has (rsync relayed by the engine).
    const staging = join(WORK_DIR, 'staged-staging');
    expect(await mountsUnder(host(1), WORK_DIR)).toBe(`${staging} fuse.sshfs\n`);
    const sourceDigest = await isolatedHostFiles(host(0)).digest('/root/data/staged');
    expect(await isolatedHostFiles(host(1)).digest(staging)).toBe(sourceDigest);
    expect(await treeDigest(join(host(0).rootfs, 'root/data/staged'))).toBe(sourceDigest);
    await deleteDsource(report.dsource.id);
  }, 240_000);

  it('direct plugin (dirsync, runSync): the same tour', async () => {
    const report = await tour('direct', DIRSYNC_TOUR_PLUGIN, 'plugins/dirsync');
    expect(must(report.steps.at(-1), 'report.steps.at(-1)').step).toBe('delete the VDB');
    await deleteDsource(report.dsource.id);
  }, 240_000);
});
