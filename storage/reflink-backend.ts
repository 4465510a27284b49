import { mkdir, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { mountsUnder } from './local-mounts.js';
import { runCommand } from './run-command.js';
import type { StorageBackend, StorageUsage } from './storage-backend.js';
import { checkStorageId } from './storage-id.js';

/** Options of {@link ReflinkBackend}. */
export interface ReflinkBackendOptions {
  /** Directory holding `datasets/` and `snapshots/`. */
  root: string;
  /** Told once when clones are full copies because the filesystem cannot reflink. @defaultValue silent */
  logger?: Logger;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Plain directories. Snapshots and clones copy every file with copy-on-write (FICLONE, `cp --reflink`) where the
 * filesystem supports it, so they cost no space until written; elsewhere they are full copies. Each copy is made
 * under a temporary name and renamed into place, so a crash never leaves a half-copied snapshot under its real name.
 * Snapshots are made read-only by mode bits, which root ignores: they are immutable by convention here.
 */
export class ReflinkBackend implements StorageBackend {
  readonly kind = 'reflink' as const;
  readonly root: string;
  readonly #logger: Logger;
  #reflinks: Promise<boolean> | null = null;

  constructor(options: ReflinkBackendOptions) {
    this.root = options.root;
    this.#logger = options.logger ?? silentLogger;
  }

  datasetPath(datasetId: string): string {
    return join(this.root, 'datasets', checkStorageId(datasetId, 'dataset'));
  }

  snapshotPath(snapshotId: string): string {
    return join(this.root, 'snapshots', checkStorageId(snapshotId, 'snapshot'));
  }

  /** Whether this filesystem clones files by reference; probed once, warned about once. */
  supportsReflink(): Promise<boolean> {
    this.#reflinks ??= (async () => {
      const probe = join(this.root, '.reflink-probe');
      await mkdir(this.root, { recursive: true });
      await writeFile(probe, 'probe');
      try {
        await runCommand('cp', ['--reflink=always', probe, `${probe}.clone`], { what: 'Probing reflink support' });
        return true;
      } catch {
        this.#logger.warn({ root: this.root }, 'this filesystem cannot reflink: snapshots and clones are full copies here (use a btrfs pool for thin clones)');
        return false;
      } finally {
        await rm(probe, { force: true });
        await rm(`${probe}.clone`, { force: true });
      }
    })();
    return this.#reflinks;
  }

  async #copy(source: string, target: string, readOnly: boolean): Promise<void> {
    const temporary = `${target}.partial`;
    await rm(temporary, { recursive: true, force: true });
    await mkdir(join(target, '..'), { recursive: true });
    const reflink = (await this.supportsReflink()) ? 'always' : 'never';
    await runCommand('cp', ['-a', `--reflink=${reflink}`, source, temporary], { what: `Copying ${source}` });
    if (readOnly) await runCommand('chmod', ['-R', 'a-w', temporary], { what: 'Making the snapshot read-only' });
    await rename(temporary, target);
  }

  async createDataset(datasetId: string): Promise<void> {
    await mkdir(this.datasetPath(datasetId), { recursive: true });
  }

  async snapshot(datasetId: string, snapshotId: string): Promise<void> {
    const target = this.snapshotPath(snapshotId);
    if (await isDirectory(target)) return;
    const source = this.datasetPath(datasetId);
    if (!(await isDirectory(source))) throw new StorageError({ code: 'STORAGE_NOT_FOUND', message: `Dataset ${datasetId} does not exist, so it cannot be snapshotted.`, details: { datasetId } });
    await this.#copy(source, target, true);
  }

  async clone(snapshotId: string, datasetId: string): Promise<void> {
    const target = this.datasetPath(datasetId);
    if (await isDirectory(target)) return;
    const source = this.snapshotPath(snapshotId);
    if (!(await isDirectory(source))) throw new StorageError({ code: 'STORAGE_NOT_FOUND', message: `Snapshot ${snapshotId} does not exist, so it cannot be cloned.`, details: { snapshotId } });
    await this.#copy(source, target, false);
    await runCommand('chmod', ['-R', 'u+w', target], { what: 'Making the clone writable' });
  }

  async #destroy(path: string, what: string): Promise<void> {
    if (!(await isDirectory(path))) return;
    const mounts = await mountsUnder(path);
    if (mounts.length) throw new StorageError({ code: 'STORAGE_BUSY', message: `${what} is in use: ${mounts.join(', ')} is mounted on it.`, action: 'Unmount it first.', details: { mounts } });
    // Renamed away first, so that the real name disappears atomically even if the removal is interrupted.
    const trash = join(this.root, '.trash', `${what.replace(/\W+/g, '-')}-${Date.now()}`);
    await mkdir(join(this.root, '.trash'), { recursive: true });
    await rename(path, trash);
    await runCommand('chmod', ['-R', 'u+w', trash], { what: `Destroying ${what}` });
    await rm(trash, { recursive: true, force: true });
  }

  destroyDataset(datasetId: string): Promise<void> {
    return this.#destroy(this.datasetPath(datasetId), `dataset ${datasetId}`);
  }

  destroySnapshot(snapshotId: string): Promise<void> {
    return this.#destroy(this.snapshotPath(snapshotId), `snapshot ${snapshotId}`);
  }

  hasDataset(datasetId: string): Promise<boolean> {
    return isDirectory(this.datasetPath(datasetId));
  }

  hasSnapshot(snapshotId: string): Promise<boolean> {
    return isDirectory(this.snapshotPath(snapshotId));
  }

  async usage(): Promise<StorageUsage> {
    await mkdir(this.root, { recursive: true });
    const fs = await statfs(this.root);
    const totalBytes = fs.blocks * fs.bsize;
    return { totalBytes, freeBytes: fs.bavail * fs.bsize, usedBytes: totalBytes - fs.bfree * fs.bsize };
  }

  async exclusiveBytes(): Promise<number | null> {
    return null;
  }
}
