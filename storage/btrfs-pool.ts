import { access, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError, ValidationError } from '../errors/index.js';
import { localMountPoints } from './local-mounts.js';
import { runCommand, storageFailure, storageWork } from './run-command.js';

/** A btrfs pool on a loop file, as `storage.json` records it. */
export interface BtrfsPoolConfig {
  backend: 'btrfs';
  /** The sparse image file (`<dataDir>/storage/pool.img`). */
  image: string;
  /** Where it is mounted (`<dataDir>/storage/pool`): the BtrfsBackend root. */
  mountPoint: string;
  /** Size of the image file; it takes disk space only as it fills. */
  sizeBytes: number;
}

/** A reflink directory backend, as `storage.json` records it. */
export interface ReflinkStorageConfig {
  backend: 'reflink';
  /** The ReflinkBackend root. */
  root: string;
}

/** What `<dataDir>/storage/storage.json` records. */
export type StorageConfig = BtrfsPoolConfig | ReflinkStorageConfig;

/** Options of {@link initBtrfsPool}. */
export interface InitBtrfsPoolOptions {
  /** The engine data dir; the pool goes under `<dataDir>/storage`. */
  dataDir: string;
  /** Size of the (sparse) pool file, at least {@link MIN_POOL_SIZE_BYTES}. */
  sizeBytes: number;
}

/** mkfs.btrfs refuses devices much smaller than this. */
export const MIN_POOL_SIZE_BYTES = 256 * 1024 ** 2;

export const storageDir = (dataDir: string) => join(dataDir, 'storage');
export const storageConfigPath = (dataDir: string) => join(storageDir(dataDir), 'storage.json');

/** The data dir's storage.json, or null if there is none yet. */
export async function readStorageConfig(dataDir: string): Promise<StorageConfig | null> {
  let text: string;
  try {
    text = await readFile(storageConfigPath(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw storageFailure(error, `read ${storageConfigPath(dataDir)}`);
  }
  const config = (() => {
    try {
      return JSON.parse(text) as Partial<StorageConfig> | null;
    } catch {
      return null;
    }
  })();
  const valid =
    (config?.backend === 'btrfs' &&
      typeof config.image === 'string' &&
      typeof config.mountPoint === 'string' &&
      typeof config.sizeBytes === 'number') ||
    (config?.backend === 'reflink' && typeof config.root === 'string');
  if (!valid) {
    throw new StorageError({
      code: 'STORAGE_FAILED',
      message: `${storageConfigPath(dataDir)} is not a valid storage record.`,
      action: "Fix the file, or remove it together with the data dir's storage to start over.",
    });
  }
  return config as StorageConfig;
}

/** Refuses (STORAGE_EXISTS) a data dir that already has storage: creating it again would orphan what it holds. */
export async function refuseExistingStorage(dataDir: string): Promise<void> {
  const existing = await readStorageConfig(dataDir);
  if (existing) {
    throw new StorageError({
      code: 'STORAGE_EXISTS',
      message: `The data dir already has ${existing.backend} storage (${storageConfigPath(dataDir)}).`,
      action: 'Keep using it (dvx storage status shows it), or use another data dir.',
      details: { config: existing },
    });
  }
}

/** Writes storage.json atomically (temp file and rename). */
export async function writeStorageConfig(dataDir: string, config: StorageConfig): Promise<void> {
  await storageWork(`write ${storageConfigPath(dataDir)}`, async () => {
    await mkdir(storageDir(dataDir), { recursive: true });
    const temporary = `${storageConfigPath(dataDir)}.tmp`;
    await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`);
    await rename(temporary, storageConfigPath(dataDir));
  });
}

function requireRoot(doing: string): void {
  if (process.getuid?.() !== 0) {
    throw new StorageError({
      code: 'STORAGE_UNSUPPORTED',
      message: `${doing} needs root (it sets up a loop device and mounts it).`,
      action:
        'Run it as root (sudo), or use the reflink backend, which works without root: dvx storage init --backend reflink.',
    });
  }
}

/** Whether the pool is mounted at its mount point (from /proc/self/mountinfo). */
export async function isPoolMounted(config: { mountPoint: string }): Promise<boolean> {
  return (await localMountPoints()).includes(config.mountPoint);
}

/**
 * Creates a btrfs pool in a sparse loop file under the data dir (`storage/pool.img`), mounts it at `storage/pool` and
 * records it in `storage/storage.json`. Needs root. Refuses a data dir that already has storage. storage.json is
 * written last, so an init interrupted before it is simply redone. Quotas are not enabled (qgroups slow down snapshot
 * deletion); {@link BtrfsBackend.exclusiveBytes} uses `btrfs filesystem du` instead.
 */
export async function initBtrfsPool(options: InitBtrfsPoolOptions): Promise<BtrfsPoolConfig> {
  if (!Number.isSafeInteger(options.sizeBytes) || options.sizeBytes < MIN_POOL_SIZE_BYTES) {
    throw new ValidationError(
      `The pool size ${options.sizeBytes} is too small: a btrfs pool needs at least 256M.`,
      [{ pointer: '/sizeBytes', message: `at least ${MIN_POOL_SIZE_BYTES}` }],
      { action: 'Give a size such as 20G.' },
    );
  }
  requireRoot('Creating a btrfs pool');
  await refuseExistingStorage(options.dataDir);
  const dir = storageDir(options.dataDir);
  const config: BtrfsPoolConfig = {
    backend: 'btrfs',
    image: join(dir, 'pool.img'),
    mountPoint: join(dir, 'pool'),
    sizeBytes: options.sizeBytes,
  };
  // Leftover of an init that stopped before writing storage.json.
  await detachBtrfsPool(config);
  await storageWork(`create the pool file ${config.image}`, async () => {
    await mkdir(dir, { recursive: true });
    const file = await open(config.image, 'w');
    try {
      await file.truncate(options.sizeBytes);
    } finally {
      await file.close();
    }
  });
  try {
    await runCommand('mkfs.btrfs', ['-q', '-f', config.image], { doing: 'format the btrfs pool' });
    await attachBtrfsPool(config);
  } catch (error) {
    await rm(config.image, { force: true });
    throw error;
  }
  await writeStorageConfig(options.dataDir, config);
  return config;
}

/** Mounts the pool again if it is not mounted (after a reboot). Idempotent. */
export async function attachBtrfsPool(config: { image: string; mountPoint: string }): Promise<void> {
  if (await isPoolMounted(config)) return;
  requireRoot('Mounting the btrfs pool');
  try {
    await access(config.image);
  } catch {
    throw new StorageError({
      code: 'STORAGE_NOT_FOUND',
      message: `The pool image ${config.image} is missing.`,
      action: 'Restore it, or remove storage.json to start with a new, empty pool.',
      details: { image: config.image },
    });
  }
  await mkdir(config.mountPoint, { recursive: true });
  await runCommand('mount', ['-o', 'loop', config.image, config.mountPoint], { doing: 'mount the btrfs pool' });
}

/** Unmounts the pool and frees its loop device. Idempotent; STORAGE_BUSY while something uses the pool. */
/** Tries, 100 ms apart, to see the pool's loop devices gone after an unmount. */
const LOOP_RELEASE_TRIES = 50;

export async function detachBtrfsPool(config: { image: string; mountPoint: string }): Promise<void> {
  if (await isPoolMounted(config)) await runCommand('umount', [config.mountPoint], { doing: 'unmount the btrfs pool' });
  // mount -o loop sets autoclear, so the device goes with the unmount, but the kernel may release it a moment later
  // (and `losetup -d` of a device still being released fails); one left over by a crash is freed here.
  for (let attempt = 0; attempt < LOOP_RELEASE_TRIES; attempt += 1) {
    const attached = await runCommand(
      'losetup',
      ['--list', '--noheadings', '--output', 'NAME', '--associated', config.image],
      { doing: "list the pool's loop devices" },
    ).catch(() => ({ stdout: '' }));
    const devices = attached.stdout
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    if (devices.length === 0) return;
    for (const device of devices)
      await runCommand('losetup', ['-d', device], { doing: `free the loop device ${device}` }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
