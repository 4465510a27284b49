import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDvxError, type DvxError } from '../../errors/index.js';
import {
  attachBtrfsPool,
  BtrfsBackend,
  detachBtrfsPool,
  initBtrfsPool,
  isPoolMounted,
  openStorage,
  readStorageConfig,
  ReflinkBackend,
  type StorageBackend,
} from '../../storage/index.js';
import { createTestBtrfsPool, type TestBtrfsPool } from '../harness/btrfs-pool.js';
import { must } from '../harness/must.js';
import { makeTempDir } from '../harness/temp-dir.js';

async function rejection(promise: Promise<unknown>): Promise<DvxError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isDvxError(error)) throw new Error(`expected a DvxError, got ${String(error)}`);
  return error;
}

const MiB = 1024 ** 2;

const loopDevicesOf = (image: string) =>
  execFileSync('losetup', ['--list', '--noheadings', '--output', 'NAME', '--associated', image], {
    encoding: 'utf8',
  }).trim();

/** Pool bytes in use, after the filesystem has committed what was written. */
function poolUsed(root: string): number {
  execFileSync('btrfs', ['filesystem', 'sync', root]);
  const out = execFileSync('btrfs', ['filesystem', 'usage', '-b', root], { encoding: 'utf8' });
  return Number(must(/^\s*Used:\s+(\d+)/m.exec(out), 'a Used: line')[1]);
}

async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < bytes; written += 4 * MiB)
      await file.write(randomBytes(Math.min(4 * MiB, bytes - written)));
  } finally {
    await file.close();
  }
}

let pool: TestBtrfsPool;
beforeAll(async () => {
  pool = await createTestBtrfsPool({ sizeBytes: 1024 ** 3 });
});
afterAll(async () => {
  await pool?.remove();
});

describe('thin clones of a 200 MB dataset', () => {
  async function cloneCost(backend: StorageBackend): Promise<{ datasetBytes: number; cloneBytes: number }> {
    await backend.createDataset('big');
    await writeRandomFile(join(backend.datasetPath('big'), 'data-1'), 150 * MiB);
    await writeRandomFile(join(backend.datasetPath('big'), 'data-2'), 50 * MiB);
    const empty = poolUsed(pool.root);
    await backend.createDataset('scratch');
    const before = poolUsed(pool.root);
    await backend.snapshot('big', 'big-snap');
    await backend.clone('big-snap', 'big-clone');
    const after = poolUsed(pool.root);
    expect((await stat(join(backend.datasetPath('big-clone'), 'data-1'))).size).toBe(150 * MiB);
    await backend.destroyDataset('big-clone');
    await backend.destroySnapshot('big-snap');
    await backend.destroyDataset('big');
    return { datasetBytes: empty, cloneBytes: after - before };
  }

  it('btrfs: a snapshot and a clone take (almost) no pool space, and a write in the clone is exclusive to it', async () => {
    const backend = new BtrfsBackend({ root: join(pool.root, 'thin') });
    const cost = await cloneCost(backend);
    expect(cost.datasetBytes).toBeGreaterThan(200 * MiB);
    expect(cost.cloneBytes).toBeLessThan(4 * MiB);

    await backend.createDataset('measured');
    await writeRandomFile(join(backend.datasetPath('measured'), 'data'), 8 * MiB);
    await backend.snapshot('measured', 'measured-snap');
    await backend.clone('measured-snap', 'measured-clone');
    execFileSync('sync');
    expect(await backend.exclusiveBytes('measured-clone')).toBe(0);
    await writeRandomFile(join(backend.datasetPath('measured-clone'), 'own'), 2 * MiB);
    execFileSync('sync');
    expect(await backend.exclusiveBytes('measured-clone')).toBe(2 * MiB);
    expect(await backend.exclusiveBytes('measured-snap')).toBe(0);
  });

  it('reflink on btrfs: clones share the data extents too', async () => {
    const cost = await cloneCost(new ReflinkBackend({ root: join(pool.root, 'reflinked') }));
    expect(cost.cloneBytes).toBeLessThan(4 * MiB);
  });
});

describe('btrfs pool', () => {
  it('refuses a second init of the same data dir, and a pool too small to format', async () => {
    const error = await rejection(initBtrfsPool({ dataDir: pool.dataDir, sizeBytes: 1024 ** 3 }));
    expect(error.code).toBe('STORAGE_EXISTS');
    expect(error.message).toContain(pool.dataDir);
    expect(await isPoolMounted(pool.config)).toBe(true);

    const temp = await makeTempDir('small-pool');
    try {
      const small = await rejection(initBtrfsPool({ dataDir: temp.path, sizeBytes: 16 * MiB }));
      expect(small.code).toBe('VALIDATION_FAILED');
      expect(existsSync(join(temp.path, 'storage', 'storage.json'))).toBe(false);
    } finally {
      await temp.remove();
    }
  });

  it('records the pool in storage.json, as a sparse file', async () => {
    expect(await readStorageConfig(pool.dataDir)).toEqual({
      backend: 'btrfs',
      image: join(pool.dataDir, 'storage', 'pool.img'),
      mountPoint: join(pool.dataDir, 'storage', 'pool'),
      sizeBytes: 1024 ** 3,
    });
    const image = await stat(pool.config.image);
    expect(image.size).toBe(1024 ** 3);
    expect(image.blocks * 512).toBeLessThan(image.size / 2);
  });

  it('is mounted again by attach (or openStorage) after an unmount, with its data, and detach frees the loop device', async () => {
    const backend = new BtrfsBackend({ root: pool.root });
    await backend.createDataset('survivor');
    await writeFile(join(backend.datasetPath('survivor'), 'note'), 'still here');
    expect(loopDevicesOf(pool.config.image)).not.toBe('');

    await detachBtrfsPool(pool.config);
    await detachBtrfsPool(pool.config);
    expect(await isPoolMounted(pool.config)).toBe(false);
    expect(loopDevicesOf(pool.config.image)).toBe('');
    expect(await backend.hasDataset('survivor')).toBe(false);

    await attachBtrfsPool(pool.config);
    await attachBtrfsPool(pool.config);
    expect(await isPoolMounted(pool.config)).toBe(true);
    expect(loopDevicesOf(pool.config.image).split('\n')).toHaveLength(1);
    expect(await readFile(join(backend.datasetPath('survivor'), 'note'), 'utf8')).toBe('still here');

    await detachBtrfsPool(pool.config);
    const reopened = await openStorage({ dataDir: pool.dataDir });
    expect(reopened.kind).toBe('btrfs');
    expect(reopened.root).toBe(pool.root);
    expect(await readFile(join(reopened.datasetPath('survivor'), 'note'), 'utf8')).toBe('still here');
  });

  it('openStorage makes a btrfs pool on first start as root, then finds it again', async () => {
    const temp = await makeTempDir('open-storage');
    const config = { image: join(temp.path, 'storage', 'pool.img'), mountPoint: join(temp.path, 'storage', 'pool') };
    try {
      const storage = await openStorage({ dataDir: temp.path, defaultPoolSizeBytes: 512 * MiB });
      expect(storage.kind).toBe('btrfs');
      expect(storage.root).toBe(config.mountPoint);
      expect(await readStorageConfig(temp.path)).toMatchObject({ backend: 'btrfs', sizeBytes: 512 * MiB });
      await storage.createDataset('first');
      const again = await openStorage({ dataDir: temp.path, defaultPoolSizeBytes: 2 * 512 * MiB });
      expect(await again.hasDataset('first')).toBe(true);
    } finally {
      await detachBtrfsPool(config);
      await temp.remove();
    }
    expect(loopDevicesOf(config.image)).toBe('');
  });

  it('openStorage uses a reflink backend recorded in storage.json', async () => {
    const temp = await makeTempDir('open-reflink');
    try {
      await mkdir(join(temp.path, 'storage'));
      await writeFile(
        join(temp.path, 'storage', 'storage.json'),
        JSON.stringify({ backend: 'reflink', root: join(temp.path, 'r') }),
      );
      const storage = await openStorage({ dataDir: temp.path });
      expect(storage.kind).toBe('reflink');
      expect(storage.root).toBe(join(temp.path, 'r'));
      await writeFile(join(temp.path, 'storage', 'storage.json'), '{"backend":"zfs"}');
      expect((await rejection(openStorage({ dataDir: temp.path }))).code).toBe('STORAGE_FAILED');
    } finally {
      await temp.remove();
    }
  });
});
