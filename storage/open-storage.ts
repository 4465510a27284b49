import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../log/logger.js';
import { BtrfsBackend } from './btrfs-backend.js';
import { attachBtrfsPool, initBtrfsPool, readStorageConfig, storageDir, writeStorageConfig, type StorageConfig } from './btrfs-pool.js';
import { ReflinkBackend } from './reflink-backend.js';
import type { StorageBackend } from './storage-backend.js';

/** Options of {@link openStorage}. */
export interface OpenStorageOptions {
  dataDir: string;
  logger?: Logger;
  /** Size of the pool created on first start (sparse: it takes space as it fills). @defaultValue 20 GiB */
  defaultPoolSizeBytes?: number;
}

async function canMakeBtrfs(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    try {
      await access(join(dir, 'mkfs.btrfs'));
      return true;
    } catch {
      // try the next one
    }
  }
  return false;
}

/**
 * The data dir's storage: the pool recorded in storage.json (mounted again if needed), or on first start a new
 * btrfs loop-file pool when running as root with btrfs-progs, else a reflink directory backend.
 */
async function createDefaultStorage(dataDir: string, logger: Logger, sizeBytes: number): Promise<StorageConfig> {
  if (await canMakeBtrfs()) {
    const pool = await initBtrfsPool({ dataDir, sizeBytes });
    logger.info({ image: pool.image, sizeBytes: pool.sizeBytes }, 'created a btrfs storage pool');
    return pool;
  }
  const reflink = { backend: 'reflink' as const, root: join(storageDir(dataDir), 'datasets') };
  await writeStorageConfig(dataDir, reflink);
  logger.warn({ root: reflink.root }, 'not root or no btrfs-progs: using the reflink directory backend');
  return reflink;
}

export async function openStorage(options: OpenStorageOptions): Promise<StorageBackend> {
  const logger = options.logger ?? silentLogger;
  const config = (await readStorageConfig(options.dataDir)) ?? (await createDefaultStorage(options.dataDir, logger, options.defaultPoolSizeBytes ?? 20 * 1024 ** 3));
  if (config.backend === 'btrfs') {
    await attachBtrfsPool(config);
    return new BtrfsBackend({ root: config.mountPoint });
  }
  return new ReflinkBackend({ root: config.root, logger });
}
