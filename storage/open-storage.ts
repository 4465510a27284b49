import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../log/logger.js';
import { BtrfsBackend } from './btrfs-backend.js';
import {
  attachBtrfsPool,
  initBtrfsPool,
  readStorageConfig,
  refuseExistingStorage,
  storageDir,
  writeStorageConfig,
  type StorageConfig,
} from './btrfs-pool.js';
import { ReflinkBackend } from './reflink-backend.js';
import type { StorageBackend } from './storage-backend.js';

/** The default size of a pool made on first start: sparse, so it takes disk space only as it fills. */
export const DEFAULT_POOL_SIZE_BYTES = 20 * 1024 ** 3;

/** Options of {@link openStorage}. */
export interface OpenStorageOptions {
  /** The engine data dir; storage lives under `<dataDir>/storage`. */
  dataDir: string;
  /** @defaultValue silentLogger */
  logger?: Logger;
  /** Size of the pool created on first start. @defaultValue 20 GiB ({@link DEFAULT_POOL_SIZE_BYTES}) */
  defaultPoolSizeBytes?: number;
}

/** Options of {@link initStorage}. */
export interface InitStorageOptions {
  dataDir: string;
  /** Which backend to create. @defaultValue btrfs when running as root with mkfs.btrfs installed, else reflink */
  backend?: 'btrfs' | 'reflink';
  /** Size of a btrfs pool. @defaultValue 20 GiB */
  sizeBytes?: number;
  /** @defaultValue silentLogger */
  logger?: Logger;
}

/** Whether this process can make a btrfs loop-file pool: root, with mkfs.btrfs installed. */
export async function canMakeBtrfsPool(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    try {
      if (dir) {
        await access(join(dir, 'mkfs.btrfs'));
        return true;
      }
    } catch {
      // try the next one
    }
  }
  return false;
}

/**
 * Creates the data dir's storage and records it in storage.json: a btrfs loop-file pool, or a reflink directory
 * backend under `<dataDir>/storage/datasets`. Refuses (STORAGE_EXISTS) a data dir that already has storage.
 */
export async function initStorage(options: InitStorageOptions): Promise<StorageConfig> {
  const logger = options.logger ?? silentLogger;
  await refuseExistingStorage(options.dataDir);
  const backend = options.backend ?? ((await canMakeBtrfsPool()) ? 'btrfs' : 'reflink');
  if (backend === 'btrfs') {
    const pool = await initBtrfsPool({
      dataDir: options.dataDir,
      sizeBytes: options.sizeBytes ?? DEFAULT_POOL_SIZE_BYTES,
    });
    logger.info(
      { image: pool.image, mountPoint: pool.mountPoint, sizeBytes: pool.sizeBytes },
      'created a btrfs storage pool',
    );
    return pool;
  }
  const reflink = { backend: 'reflink' as const, root: join(storageDir(options.dataDir), 'datasets') };
  await writeStorageConfig(options.dataDir, reflink);
  logger.info({ root: reflink.root }, 'created a reflink directory storage');
  return reflink;
}

/** The backend a storage record describes; a btrfs pool is mounted first if it is not (after a reboot). */
export async function backendFor(config: StorageConfig, logger: Logger = silentLogger): Promise<StorageBackend> {
  if (config.backend === 'btrfs') {
    await attachBtrfsPool(config);
    return new BtrfsBackend({ root: config.mountPoint });
  }
  return new ReflinkBackend({ root: config.root, logger });
}

/**
 * The data dir's storage: the one recorded in storage.json (a btrfs pool is mounted again if needed), or on first
 * start a new one: a btrfs loop-file pool when running as root with btrfs-progs (falling back to reflink, with a
 * warning, if the pool cannot be made here, e.g. no loop devices in a container), else a reflink directory backend.
 */
export async function openStorage(options: OpenStorageOptions): Promise<StorageBackend> {
  const logger = options.logger ?? silentLogger;
  let config = await readStorageConfig(options.dataDir);
  if (!config) {
    if (await canMakeBtrfsPool()) {
      try {
        config = await initStorage({
          dataDir: options.dataDir,
          backend: 'btrfs',
          sizeBytes: options.defaultPoolSizeBytes ?? DEFAULT_POOL_SIZE_BYTES,
          logger,
        });
      } catch (error) {
        if ((error as { code?: string }).code === 'STORAGE_EXISTS') throw error;
        logger.warn({ err: error }, 'could not create a btrfs pool: falling back to the reflink directory backend');
      }
    } else {
      logger.warn(
        'not root or no btrfs-progs: using the reflink directory backend (clones are thin only on a reflink-capable filesystem)',
      );
    }
    config ??= await initStorage({ dataDir: options.dataDir, backend: 'reflink', logger });
  }
  return backendFor(config, logger);
}
