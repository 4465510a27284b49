// The tour with plugins/python-dirtree: the vSDK tutorial's directory-tree plugin, in Python, built unchanged, run
// by dvx's Python runtime end to end (link, sync, provision, write, snapshot, rewind, refresh, rewind across
// timeflows, stop/start, disable/enable, delete) on three sshd hosts and a btrfs pool.
//
// The plugin copies with `rsync -r USER@SOURCE_ADDRESS:PATH MOUNT` on the staging host and, as the tutorial says,
// relies on passwordless SSH from the staging host to the source host. The test hosts listen on loopback ports, so
// the hosts' sessions find an `ssh` that reaches the source host by the name `dvx-tour-source` with its key (through
// a config file of this test), and runs the system's ssh for anything else.
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTour } from '../../cli/quickstart/tour.js';
import { writeSampleData } from '../../cli/quickstart/sample-data.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { must } from '../harness/must.js';
import { makeTempDir } from '../harness/temp-dir.js';

const SOURCE_ALIAS = 'dvx-tour-source';
let engine: EngineFixture;
let tools: { path: string; remove(): Promise<void> };

beforeAll(async () => {
  tools = await makeTempDir('python-tour-ssh');
  const config = join(tools.path, 'ssh_config');
  await writeFile(
    join(tools.path, 'ssh'),
    [
      '#!/bin/sh',
      `case " $* " in *${SOURCE_ALIAS}*) exec /usr/bin/ssh -F '${config}' "$@" ;; esac`,
      'exec /usr/bin/ssh "$@"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  engine = await startEngineFixture({
    ssh: { sessionPath: `${tools.path}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
  });
  const source = must(engine.ssh.hosts[0], 'the source host');
  const key = join(tools.path, 'source-key');
  await writeFile(key, must(source.credentials.privateKey, 'the source key'), { mode: 0o600 });
  await chmod(key, 0o600);
  await writeFile(
    config,
    [
      `Host ${SOURCE_ALIAS}`,
      `  HostName ${source.address.host}`,
      `  Port ${source.address.port}`,
      `  IdentityFile ${key}`,
      '  IdentitiesOnly yes',
      '  StrictHostKeyChecking no',
      '  UserKnownHostsFile /dev/null',
      '  LogLevel ERROR',
      '',
    ].join('\n'),
  );
}, 120_000);
afterAll(async () => {
  await engine?.stop();
  await tools?.remove();
}, 120_000);

describe('the tour with a Python (vSDK) plugin', () => {
  it('python-dirtree, built unchanged: link, sync, provision, snapshot, rewind, refresh, stop/start, disable/enable, delete', async () => {
    const source = must(engine.ssh.hosts[0], 'the source host');
    const sourceDir = join(source.home, 'data', 'python');
    await mkdir(sourceDir, { recursive: true });
    await writeSampleData(sourceDir, 60);
    // The tutorial's `rsync -r` copies regular files and directories, not symlinks.
    await rm(join(sourceDir, 'LATEST'), { force: true });
    const report = await runTour({
      client: engine.client,
      plugin: {
        artifactPath: await engine.build('plugins/python-dirtree'),
        sourceConfig: (path, name) => ({ path, name }),
        linkParameters: (stagingPath) => ({
          sourceAddress: SOURCE_ALIAS,
          username: source.address.user,
          mountLocation: stagingPath,
        }),
        vdbParameters: (mountPath) => ({ mountLocation: mountPath }),
        // `rsync -r host:/data mount` puts the directory itself in the mount.
        copiedInto: (root, dir) => join(root, basename(dir)),
      },
      hosts: { source: engine.tourHost(0), staging: engine.tourHost(1), target: engine.tourHost(2) },
      sourceDir,
      workDir: join(engine.dir, 'mnt'),
      prefix: 'python',
    });
    const steps = report.steps.map((step) => step.step);
    expect(steps).toContain('rewind across timeflows (undo refresh)');
    expect(steps).toContain('disable / enable');
    expect(steps.at(-1)).toBe('delete the VDB');
    expect(await engine.runtime.ctx.model.vdbs.get(report.vdb.id)).toBeNull();
  });
});
