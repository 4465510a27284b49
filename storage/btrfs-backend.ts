import { mkdir, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StorageError } from '../errors/index.js';
import { filesystemUsage } from './filesystem-usage.js';
import { refuseIfMounted } from './local-mounts.js';
import { runCommand, storageWork } from './run-command.js';
import type { StorageBackend, StorageUsage } from './storage-backend.js';
import { checkStorageId } from './storage-id.js';

/** Options of {@link BtrfsBackend}. */
export interface BtrfsBackendOptions {
  /**
   * A directory on a mounted btrfs filesystem, usually a pool's mount point (`<dataDir>/storage/pool`).
   * Datasets are subvolumes under `<root>/datasets`, snapshots under `<root>/snapshots`. Needs root.
   */
  root: string;
}

const BTRFS_SUPER_MAGIC = 0x9123683e;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A btrfs subvolume's root directory has inode 256: what tells a finished subvolume from a plain directory. */
async function isSubvolume(path: string): Promise<boolean> {
  try {
    return (await stat(path)).ino === 256;
  } catch {
    return false;
  }
}

/**
 * Datasets are subvolumes (`<root>/datasets/<id>`), snapshots read-only snapshots of them (`<root>/snapshots/<id>`),
 * clones writable snapshots of a snapshot. Each is one btrfs ioctl, atomic (a crash leaves it done or not begun)
 * and O(1) in the data's size, which is also what makes every call idempotent: done means the subvolume is there.
 */
export class BtrfsBackend implements StorageBackend {
  readonly kind = 'btrfs' as const;
  readonly root: string;
  #checked = false;

  constructor(options: BtrfsBackendOptions) {
    this.root = options.root;
  }

  datasetPath(datasetId: string): string {
    return join(this.root, 'datasets', checkStorageId(datasetId, 'dataset'));
  }

  snapshotPath(snapshotId: string): string {
    return join(this.root, 'snapshots', checkStorageId(snapshotId, 'snapshot'));
  }

  /** Refuses to work on anything but btrfs: an unmounted pool's empty mount point must not collect datasets. */
  async #prepare(): Promise<void> {
    if (this.#checked) return;
    // The root itself, or the nearest folder above it that exists (the root is then made on the same filesystem).
    let dir = this.root;
    let fs = await statfs(dir).catch(() => null);
    while (!fs && dirname(dir) !== dir) {
      dir = dirname(dir);
      fs = await statfs(dir).catch(() => null);
    }
    if (fs?.type !== BTRFS_SUPER_MAGIC) {
      throw new StorageError({
        code: 'STORAGE_UNSUPPORTED',
        message: `${this.root} is not on a btrfs filesystem.`,
        action: 'Mount the storage pool (dvx engine start does it), or use the reflink backend.',
        details: { root: this.root },
      });
    }
    await mkdir(join(this.root, 'datasets'), { recursive: true });
    await mkdir(join(this.root, 'snapshots'), { recursive: true });
    this.#checked = true;
  }

  async createDataset(datasetId: string): Promise<void> {
    const path = this.datasetPath(datasetId);
    return storageWork(`create dataset ${datasetId}`, async () => {
      if (await isSubvolume(path)) return;
      await this.#prepare();
      await runCommand('btrfs', ['subvolume', 'create', path], { doing: `create dataset ${datasetId}` });
    });
  }

  async snapshot(datasetId: string, snapshotId: string): Promise<void> {
    const source = this.datasetPath(datasetId);
    const target = this.snapshotPath(snapshotId);
    return storageWork(`snapshot dataset ${datasetId} as ${snapshotId}`, async () => {
      if (await isSubvolume(target)) return;
      if (!(await isSubvolume(source)))
        throw new StorageError({
          code: 'STORAGE_NOT_FOUND',
          message: `Dataset ${datasetId} does not exist, so it cannot be snapshotted.`,
          details: { datasetId },
        });
      await this.#prepare();
      await runCommand('btrfs', ['subvolume', 'snapshot', '-r', source, target], {
        doing: `snapshot dataset ${datasetId} as ${snapshotId}`,
      });
    });
  }

  async clone(snapshotId: string, datasetId: string): Promise<void> {
    const source = this.snapshotPath(snapshotId);
    const target = this.datasetPath(datasetId);
    return storageWork(`clone snapshot ${snapshotId} as ${datasetId}`, async () => {
      if (await isSubvolume(target)) return;
      if (!(await isSubvolume(source)))
        throw new StorageError({
          code: 'STORAGE_NOT_FOUND',
          message: `Snapshot ${snapshotId} does not exist, so it cannot be cloned.`,
          details: { snapshotId },
        });
      await this.#prepare();
      await runCommand('btrfs', ['subvolume', 'snapshot', source, target], {
        doing: `clone snapshot ${snapshotId} as ${datasetId}`,
      });
    });
  }

  #destroy(path: string, what: string): Promise<void> {
    return storageWork(`destroy ${what}`, async () => {
      if (!(await exists(path))) return;
      await refuseIfMounted(path, what);
      await runCommand('btrfs', ['subvolume', 'delete', path], { doing: `destroy ${what}` });
    });
  }

  async destroyDataset(datasetId: string): Promise<void> {
    return this.#destroy(this.datasetPath(datasetId), `dataset ${datasetId}`);
  }

  async destroySnapshot(snapshotId: string): Promise<void> {
    return this.#destroy(this.snapshotPath(snapshotId), `snapshot ${snapshotId}`);
  }

  async hasDataset(datasetId: string): Promise<boolean> {
    return isSubvolume(this.datasetPath(datasetId));
  }

  async hasSnapshot(snapshotId: string): Promise<boolean> {
    return isSubvolume(this.snapshotPath(snapshotId));
  }

  usage(): Promise<StorageUsage> {
    return storageWork('read the pool usage', async () => {
      await this.#prepare();
      return filesystemUsage(this.root);
    });
  }

  /** From `btrfs filesystem du`: data extents referenced by this subvolume and no other. A dataset id is looked up first. */
  async exclusiveBytes(id: string): Promise<number | null> {
    checkStorageId(id, 'dataset or snapshot');
    return storageWork(`measure ${id}`, async () => {
      const path = (await isSubvolume(this.datasetPath(id))) ? this.datasetPath(id) : this.snapshotPath(id);
      if (!(await isSubvolume(path))) return null;
      const { stdout } = await runCommand('btrfs', ['filesystem', 'du', '-s', '--raw', path], {
        doing: `measure ${id}`,
      });
      const exclusive = Number((stdout.trim().split('\n').at(-1) ?? '').trim().split(/\s+/)[1]);
      return Number.isFinite(exclusive) ? exclusive : null;
    });
  }
}
