import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { filesystemUsage } from './filesystem-usage.js';
import { refuseIfMounted } from './local-mounts.js';
import { runCommand, storageWork } from './run-command.js';
import type { StorageBackend, StorageUsage } from './storage-backend.js';
import { checkStorageId } from './storage-id.js';

/** Options of {@link ReflinkBackend}. */
export interface ReflinkBackendOptions {
  /** Directory holding `datasets/`, `snapshots/` and the backend's work folders (`.tmp/`, `.trash/`). Created if missing. */
  root: string;
  /** Gets one warning when this filesystem cannot reflink, so that snapshots and clones are full copies. @defaultValue silentLogger */
  logger?: Logger;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

const unique = () => `${process.pid}-${Date.now()}-${randomBytes(4).toString('hex')}`;

/**
 * Plain directories, for hosts without btrfs or without root. Snapshots and clones copy every file with
 * `cp -a --reflink=auto`: copy-on-write (FICLONE) where the filesystem supports it (btrfs, XFS with reflink), so
 * they cost no data space until written, but still one pass over the file tree; a full copy elsewhere (ext4), with
 * one warning per backend.
 *
 * Crash safety: a snapshot or clone is built under `.tmp/` and renamed into place, so its real name only ever names a
 * complete copy and a retried call redoes a half-made one. A destroy renames away first, then deletes.
 *
 * Read-only snapshots: their files lose every write bit (`chmod -R a-w`), which stops the owner but not root:
 * as root a snapshot is immutable by convention only. A clone gets the owner's write bit back (`chmod -R u+w`);
 * group and other write bits of the original files are not restored.
 * A snapshot of a dataset that is being written copies files one by one: it is consistent only if the dataset is quiet.
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

  get #tmp(): string {
    return join(this.root, '.tmp');
  }

  get #trash(): string {
    return join(this.root, '.trash');
  }

  /** Whether this filesystem clones files by reference (`cp --reflink=always` of a probe file). Probed once; warned once. */
  supportsReflink(): Promise<boolean> {
    this.#reflinks ??= (async () => {
      await mkdir(this.#tmp, { recursive: true });
      const probe = join(this.#tmp, `reflink-probe-${unique()}`);
      await writeFile(probe, 'probe');
      try {
        await runCommand('cp', ['--reflink=always', probe, `${probe}.clone`], { doing: 'probe reflink support' });
        return true;
      } catch {
        this.#logger.warn(
          { root: this.root },
          'this filesystem cannot reflink: snapshots and clones are full copies here (a btrfs pool makes them thin)',
        );
        return false;
      } finally {
        await rm(probe, { force: true });
        await rm(`${probe}.clone`, { force: true });
      }
    })();
    return this.#reflinks;
  }

  /** Deletes a tree that may hold read-only folders (which stop a non-root owner's rm). */
  async #remove(path: string, doing: string): Promise<void> {
    if (!(await isDirectory(path))) return rm(path, { force: true });
    await runCommand('chmod', ['-R', 'u+w', path], { doing });
    await rm(path, { recursive: true, force: true });
  }

  async #copy(source: string, target: string, mode: 'a-w' | 'u+w', doing: string): Promise<void> {
    await mkdir(this.#tmp, { recursive: true });
    await mkdir(join(target, '..'), { recursive: true });
    // One name per target: a retry after a crash finds and replaces its own leftover.
    const temporary = join(this.#tmp, target.slice(this.root.length + 1).replace(/\//g, '--'));
    await this.#remove(temporary, doing);
    await this.supportsReflink();
    await runCommand('cp', ['-a', '--reflink=auto', '--no-target-directory', source, temporary], {
      doing,
      timeoutMs: 24 * 3_600_000,
    });
    await runCommand('chmod', ['-R', mode, temporary], { doing });
    // Moving a folder to another parent rewrites its "..": a non-root owner needs write permission on it for that.
    if (mode === 'a-w') await chmod(temporary, (await stat(temporary)).mode | 0o200);
    try {
      await rename(temporary, target);
    } catch (error) {
      // Another delivery of the same step finished first.
      if (!(await isDirectory(target))) throw error;
      await this.#remove(temporary, doing);
    }
    if (mode === 'a-w') await this.#seal(target);
  }

  /** Takes the write bits off a snapshot's top folder (its content is sealed before the rename). */
  async #seal(path: string): Promise<void> {
    const { mode } = await stat(path);
    if (mode & 0o222) await chmod(path, mode & ~0o222);
  }

  async createDataset(datasetId: string): Promise<void> {
    const path = this.datasetPath(datasetId);
    await storageWork(`create dataset ${datasetId}`, () => mkdir(path, { recursive: true }));
  }

  async snapshot(datasetId: string, snapshotId: string): Promise<void> {
    const source = this.datasetPath(datasetId);
    const target = this.snapshotPath(snapshotId);
    const doing = `snapshot dataset ${datasetId} as ${snapshotId}`;
    await storageWork(doing, async () => {
      // Done already; a crash may have come between the rename and sealing the top folder.
      if (await isDirectory(target)) return this.#seal(target);
      if (!(await isDirectory(source)))
        throw new StorageError({
          code: 'STORAGE_NOT_FOUND',
          message: `Dataset ${datasetId} does not exist, so it cannot be snapshotted.`,
          details: { datasetId },
        });
      await this.#copy(source, target, 'a-w', doing);
    });
  }

  async clone(snapshotId: string, datasetId: string): Promise<void> {
    const source = this.snapshotPath(snapshotId);
    const target = this.datasetPath(datasetId);
    const doing = `clone snapshot ${snapshotId} as ${datasetId}`;
    await storageWork(doing, async () => {
      if (await isDirectory(target)) return;
      if (!(await isDirectory(source)))
        throw new StorageError({
          code: 'STORAGE_NOT_FOUND',
          message: `Snapshot ${snapshotId} does not exist, so it cannot be cloned.`,
          details: { snapshotId },
        });
      await this.#copy(source, target, 'u+w', doing);
    });
  }

  async #destroy(path: string, what: string): Promise<void> {
    await storageWork(`destroy ${what}`, async () => {
      if (await isDirectory(path)) {
        await refuseIfMounted(path, what);
        // Renamed away first, so that the name disappears atomically even if the deletion is interrupted.
        await mkdir(this.#trash, { recursive: true });
        const trashed = join(this.#trash, unique());
        await chmod(path, (await stat(path)).mode | 0o200);
        await rename(path, trashed);
        await this.#remove(trashed, `destroy ${what}`);
      }
      // Leftovers of an interrupted destroy (best effort: another destroy may be deleting them right now).
      for (const entry of await readdir(this.#trash).catch(() => []))
        await this.#remove(join(this.#trash, entry), `destroy ${what}`).catch(() => undefined);
    });
  }

  async destroyDataset(datasetId: string): Promise<void> {
    await this.#destroy(this.datasetPath(datasetId), `dataset ${datasetId}`);
  }

  async destroySnapshot(snapshotId: string): Promise<void> {
    await this.#destroy(this.snapshotPath(snapshotId), `snapshot ${snapshotId}`);
  }

  async hasDataset(datasetId: string): Promise<boolean> {
    return isDirectory(this.datasetPath(datasetId));
  }

  async hasSnapshot(snapshotId: string): Promise<boolean> {
    return isDirectory(this.snapshotPath(snapshotId));
  }

  async usage(): Promise<StorageUsage> {
    return storageWork('read the storage usage', async () => {
      await mkdir(this.root, { recursive: true });
      return filesystemUsage(this.root);
    });
  }

  /** Reflinked extents are shared invisibly to `du`, so this backend cannot tell. */
  async exclusiveBytes(id: string): Promise<number | null> {
    checkStorageId(id, 'dataset or snapshot');
    return null;
  }
}
