import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBash, SshConnectionPool } from '../../hosts/index.js';
import { BindMountTransport, BtrfsBackend, localMounts, mountsUnder } from '../../storage/index.js';
import { createTestBtrfsPool, type TestBtrfsPool } from '../harness/btrfs-pool.js';
import { startSshHosts, type TestSshHosts } from '../harness/ssh-hosts.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { describeMountTransportConformance } from './mount-transport.conformance.js';
import { must } from '../harness/must.js';

let set: TestSshHosts;
let pool: TestBtrfsPool;
let mounts: { path: string; remove(): Promise<void> };
let counter = 0;
beforeAll(async () => {
  set = await startSshHosts(1);
  pool = await createTestBtrfsPool({ sizeBytes: 512 * 1024 ** 2 });
  mounts = await makeTempDir('bind-mounts');
});
afterAll(async () => {
  await set?.stopAll();
  await pool?.remove();
  // Never delete through a mount a failed test left behind.
  for (const mount of (await mountsUnder(mounts.path)).reverse()) execFileSync('umount', ['-l', mount]);
  await mounts?.remove();
});

describeMountTransportConformance('bind mounts of btrfs datasets over SSH', async () => {
  const connections = new SshConnectionPool();
  const backend = new BtrfsBackend({ root: pool.root });
  return {
    transport: new BindMountTransport({ runBash, busyRetries: 2, busyRetryIntervalMs: 200 }),
    connection: connections.get(must(set.hosts[0], 'host 0').spec()),
    async makeSource() {
      const id = `ds-${(counter += 1)}`;
      await backend.createDataset(id);
      return backend.datasetPath(id);
    },
    mountPath: () => join(mounts.path, `vdb ${(counter += 1)}`, 'mnt'),
    cleanup: () => connections.close(),
  };
});

describeMountTransportConformance('bind mounts of plain directories over SSH', async () => {
  const connections = new SshConnectionPool();
  const sources = join(mounts.path, 'sources');
  return {
    transport: new BindMountTransport({ runBash, busyRetries: 1, busyRetryIntervalMs: 100 }),
    connection: connections.get(must(set.hosts[0], 'host 0').spec({ id: 'plain' })),
    async makeSource() {
      const path = join(sources, `dir-${(counter += 1)}`);
      await mkdir(path, { recursive: true });
      return path;
    },
    mountPath: () => join(mounts.path, `quote's $(x) ${(counter += 1)}`),
    cleanup: () => connections.close(),
  };
});

describe('BindMountTransport', () => {
  it('says where the source is missing: the bind transport needs a host sharing the engine filesystem', async () => {
    const connections = new SshConnectionPool();
    try {
      const transport = new BindMountTransport({ runBash });
      const error = await transport
        .attach({
          connection: connections.get(must(set.hosts[0], 'host 0').spec({ id: 'missing' })),
          sourcePath: join(mounts.path, 'not-there'),
          mountPath: join(mounts.path, 'target'),
        })
        .then(
          () => null,
          (caught: { code?: string; message: string; action?: string }) => caught,
        );
      expect(error?.code).toBe('MOUNT_FAILED');
      expect(error?.action).toMatch(/shares the engine/);
      expect((await localMounts()).some((mount) => mount.mountPoint === join(mounts.path, 'target'))).toBe(false);
    } finally {
      await connections.close();
    }
  });
});
