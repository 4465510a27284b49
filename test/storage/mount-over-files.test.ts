// The bind transport never mounts over a directory that already holds files (its files would be hidden until the
// object is deleted), whatever path it is given: the attach step's check on the host.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBash, SshConnectionPool } from '../../hosts/index.js';
import { BindMountTransport, localMounts, mountsUnder } from '../../storage/index.js';
import { must } from '../harness/must.js';
import { startSshHosts, type TestSshHosts } from '../harness/ssh-hosts.js';
import { makeTempDir } from '../harness/temp-dir.js';

let set: TestSshHosts;
let dir: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  set = await startSshHosts(1);
  dir = await makeTempDir('mount-over-files');
});
afterAll(async () => {
  await set?.stopAll();
  for (const mount of (await mountsUnder(dir.path)).reverse()) execFileSync('umount', ['-l', mount]);
  await dir?.remove();
});

describe('BindMountTransport.attach', () => {
  it('refuses (MOUNT_FAILED) a mount path that is a directory holding files, and leaves it as it was', async () => {
    const connections = new SshConnectionPool();
    try {
      const transport = new BindMountTransport({ runBash });
      const connection = connections.get(must(set.hosts[0], 'host 0').spec());
      const sourcePath = join(dir.path, 'source');
      await mkdir(sourcePath);
      await writeFile(join(sourcePath, 'dataset.txt'), 'dataset\n');
      const busy = join(dir.path, 'busy');
      await mkdir(busy);
      await writeFile(join(busy, '.hidden'), 'mine\n');
      const error = await transport.attach({ connection, sourcePath, mountPath: busy }).then(
        () => null,
        (caught: { code?: string; message: string; retryable?: boolean }) => caught,
      );
      expect(error).toMatchObject({
        code: 'MOUNT_FAILED',
        retryable: false,
        message: expect.stringContaining('already holds files') as string,
      });
      expect((await localMounts()).some((mount) => mount.mountPoint === busy)).toBe(false);
      expect(await readFile(join(busy, '.hidden'), 'utf8')).toBe('mine\n');

      // An empty directory is mounted on, and attaching again (the mount now shows the dataset's files) is a no-op.
      const empty = join(dir.path, 'empty');
      await mkdir(empty);
      await transport.attach({ connection, sourcePath, mountPath: empty });
      await transport.attach({ connection, sourcePath, mountPath: empty });
      expect(await readFile(join(empty, 'dataset.txt'), 'utf8')).toBe('dataset\n');
      await transport.detach({ connection, mountPath: empty });
    } finally {
      await connections.close();
    }
  });
});
