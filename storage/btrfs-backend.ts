import { mkdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../errors/index.js';
import { mountsUnder } from './local-mounts.js';
import { runCommand } from './run-command.js';
import type { StorageBackend, StorageUsage } from './storage-backend.js';
import { checkStorageId } from './storage-id.js';

/** Options of {@link BtrfsBackend}. */
export interface BtrfsBackendOptions {
  /** A directory on a btrfs filesystem (a pool's mount point). Datasets and snapshots are subvolumes under it. */
  root: string;
}

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
 * clones writable snapshots of a snapshot. Each is one btrfs operation, atomic and O(1) in the data's size.
 */
export class BtrfsBackend implements StorageBackend {
  readonly kind = 'btrfs' as const;
  readonly root: string;

  constructor(options: BtrfsBackendOptions) {
    this.root = options.root;
  }

  datasetPath(datasetId: string): string {
    return join(this.root, 'datasets', checkStorageId(datasetId, 'dataset'));
  }

  snapshotPath(snapshotId: string): string {
    return join(this.root, 'snapshots', checkStorageId(snapshotId, 'snapshot'));
  }

  async #dirs(): Promise<void> {
    await mkdir(join(this.root, 'datasets'), { recursive: true });
    await mkdir(join(this.root, 'snapshots'), { recursive: true });
  }

  async createDataset(datasetId: string): Promise<void> {
    const path = this.datasetPath(datasetId);
    if (await isSubvolume(path)) return;
    await this.#dirs();
    await runCommand('btrfs', ['subvolume', 'create', path], { what: `Creating dataset ${datasetId}` });
  }

  async snapshot(datasetId: string, snapshotId: string): Promise<void> {
    const target = this.snapshotPath(snapshotId);
    if (await isSubvolume(target)) return;
    const source = this.datasetPath(datasetId);
    if (!(await isSubvolume(source))) throw new StorageError({ code: 'STORAGE_NOT_FOUND', message: `Dataset ${datasetId} does not exist, so it cannot be snapshotted.`, details: { datasetId } });
    await this.#dirs();
    await runCommand('btrfs', ['subvolume', 'snapshot', '-r', source, target], { what: `Snapshotting ${datasetId} as ${snapshotId}` });
  }

  async clone(snapshotId: string, datasetId: string): Promise<void> {
    const target = this.datasetPath(datasetId);
    if (await isSubvolume(target)) return;
    const source = this.snapshotPath(snapshotId);
    if (!(await isSubvolume(source))) throw new StorageError({ code: 'STORAGE_NOT_FOUND', message: `Snapshot ${snapshotId} does not exist, so it cannot be cloned.`, details: { snapshotId } });
    await this.#dirs();
    await runCommand('btrfs', ['subvolume', 'snapshot', source, target], { what: `Cloning ${snapshotId} as ${datasetId}` });
  }

  async #destroy(path: string, what: string): Promise<void> {
    if (!(await exists(path))) return;
    const mounts = await mountsUnder(path);
    if (mounts.length) throw new StorageError({ code: 'STORAGE_BUSY', message: `${what} is in use: ${mounts.join(', ')} is mounted on it.`, action: 'Unmount it first.', details: { mounts } });
    await runCommand('btrfs', ['subvolume', 'delete', path], { what: `Destroying ${what}` });
  }

  destroyDataset(datasetId: string): Promise<void> {
    return this.#destroy(this.datasetPath(datasetId), `dataset ${datasetId}`);
  }

  destroySnapshot(snapshotId: string): Promise<void> {
    return this.#destroy(this.snapshotPath(snapshotId), `snapshot ${snapshotId}`);
  }

  hasDataset(datasetId: string): Promise<boolean> {
    return isSubvolume(this.datasetPath(datasetId));
  }

  hasSnapshot(snapshotId: string): Promise<boolean> {
    return isSubvolume(this.snapshotPath(snapshotId));
  }

  async usage(): Promise<StorageUsage> {
    const fs = await statfs(this.root);
    const totalBytes = fs.blocks * fs.bsize;
    const freeBytes = fs.bavail * fs.bsize;
    return { totalBytes, freeBytes, usedBytes: totalBytes - fs.bfree * fs.bsize };
  }

  async exclusiveBytes(id: string): Promise<number | null> {
    const path = (await isSubvolume(this.datasetPath(id))) ? this.datasetPath(id) : this.snapshotPath(id);
    if (!(await exists(path))) return null;
    const { stdout } = await runCommand('btrfs', ['filesystem', 'du', '-s', '--raw', path], { what: `Measuring ${id}` });
    const line = stdout.trim().split('\n').at(-1) ?? '';
    const exclusive = Number(line.trim().split(/\s+/)[1]);
    return Number.isFinite(exclusive) ? exclusive : null;
  }
}
