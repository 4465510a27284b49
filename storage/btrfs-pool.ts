import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../errors/index.js';
import { localMountPoints } from './local-mounts.js';
import { runCommand } from './run-command.js';

/** What `<dataDir>/storage/storage.json` records. */
export type StorageConfig = { backend: 'btrfs'; image: string; mountPoint: string; sizeBytes: number } | { backend: 'reflink'; root: string };

/** Options of {@link initBtrfsPool}. */
export interface InitBtrfsPoolOptions {
  dataDir: string;
  /** Size of the (sparse) pool file. */
  sizeBytes: number;
}

export const storageDir = (dataDir: string) => join(dataDir, 'storage');
export const storageConfigPath = (dataDir: string) => join(storageDir(dataDir), 'storage.json');

export async function readStorageConfig(dataDir: string): Promise<StorageConfig | null> {
  try {
    return JSON.parse(await readFile(storageConfigPath(dataDir), 'utf8')) as StorageConfig;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StorageError({ code: 'STORAGE_FAILED', message: `${storageConfigPath(dataDir)} is unreadable: ${(error as Error).message}`, action: 'Fix or remove the file.' });
  }
}

export async function writeStorageConfig(dataDir: string, config: StorageConfig): Promise<void> {
  await mkdir(storageDir(dataDir), { recursive: true });
  await writeFile(storageConfigPath(dataDir), `${JSON.stringify(config, null, 2)}\n`);
}

function requireRoot(doing: string): void {
  if (process.getuid?.() !== 0) {
    throw new StorageError({ code: 'STORAGE_UNSUPPORTED', message: `${doing} needs root (loop devices and mounts).`, action: 'Run it as root, or use the reflink backend: dvx storage init --backend reflink.' });
  }
}

/** Creates a btrfs pool in a sparse loop file under the data dir, mounts it and records it. */
export async function initBtrfsPool(options: InitBtrfsPoolOptions): Promise<StorageConfig & { backend: 'btrfs' }> {
  requireRoot('Creating a btrfs pool');
  const existing = await readStorageConfig(options.dataDir);
  if (existing) throw new StorageError({ code: 'STORAGE_EXISTS', message: `The data dir already has a ${existing.backend} storage pool (${storageConfigPath(options.dataDir)}).`, action: 'Use it, or remove the data dir to start over.' });
  const dir = storageDir(options.dataDir);
  await mkdir(dir, { recursive: true });
  const config = { backend: 'btrfs' as const, image: join(dir, 'pool.img'), mountPoint: join(dir, 'pool'), sizeBytes: options.sizeBytes };
  const file = await open(config.image, 'w');
  try {
    await file.truncate(options.sizeBytes);
  } finally {
    await file.close();
  }
  try {
    await runCommand('mkfs.btrfs', ['-q', '-f', config.image], { what: 'Formatting the btrfs pool' });
    await attachBtrfsPool(config);
  } catch (error) {
    await rm(config.image, { force: true });
    throw error;
  }
  await writeStorageConfig(options.dataDir, config);
  return config;
}

export async function isPoolMounted(config: { mountPoint: string }): Promise<boolean> {
  return (await localMountPoints()).includes(config.mountPoint);
}

/** Mounts the pool again if it is not (after a reboot). */
export async function attachBtrfsPool(config: { image: string; mountPoint: string }): Promise<void> {
  if (await isPoolMounted(config)) return;
  requireRoot('Mounting the btrfs pool');
  await mkdir(config.mountPoint, { recursive: true });
  await runCommand('mount', ['-o', 'loop', config.image, config.mountPoint], { what: 'Mounting the btrfs pool' });
}

/** Unmounts the pool; its loop device is freed with it (mount -o loop sets autoclear). */
export async function detachBtrfsPool(config: { mountPoint: string }): Promise<void> {
  if (!(await isPoolMounted(config))) return;
  await runCommand('umount', [config.mountPoint], { what: 'Unmounting the btrfs pool' });
}
