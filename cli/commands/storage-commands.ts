import type { Command } from 'commander';
import { commandGroup } from '../command-group.js';
import { ValidationError } from '../../errors/index.js';
import { createLogger } from '../../log/logger.js';
import {
  backendFor,
  initStorage,
  isPoolMounted,
  parseSize,
  readStorageConfig,
  storageConfigPath,
  type StorageConfig,
  type StorageUsage,
} from '../../storage/index.js';
import { resolveDataDir } from '../data-dir.js';
import { print } from '../output.js';

interface StorageOptions {
  dataDir?: string;
  json?: boolean;
}

/** What `dvx storage status` reports. */
export interface StorageStatus {
  dataDir: string;
  /** null when the data dir has no storage yet. */
  backend: StorageConfig['backend'] | null;
  root: string | null;
  config: StorageConfig | null;
  /** Whether a btrfs pool is mounted; always true for reflink. */
  mounted: boolean;
  usage: StorageUsage | null;
}

const GiB = 1024 ** 3;
const formatBytes = (bytes: number) =>
  bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

function describe(status: StorageStatus): string {
  if (!status.config)
    return `no storage in ${status.dataDir} yet: dvx storage init creates it (dvx engine start does on first start)\n`;
  const lines = [`backend  ${status.backend}`, `root     ${status.root}`];
  if (status.config.backend === 'btrfs')
    lines.push(
      `image    ${status.config.image} (${formatBytes(status.config.sizeBytes)}, sparse)`,
      `mounted  ${status.mounted ? 'yes' : 'no'}`,
    );
  if (status.usage)
    lines.push(
      `usage    ${formatBytes(status.usage.usedBytes)} used, ${formatBytes(status.usage.freeBytes)} free of ${formatBytes(status.usage.totalBytes)}`,
    );
  return `${lines.join('\n')}\n`;
}

/** Reads the data dir's storage without changing anything (an unmounted pool is reported, not mounted). */
export async function storageStatus(dataDir: string): Promise<StorageStatus> {
  const config = await readStorageConfig(dataDir);
  if (!config) return { dataDir, backend: null, root: null, config: null, mounted: false, usage: null };
  const root = config.backend === 'btrfs' ? config.mountPoint : config.root;
  const mounted = config.backend === 'btrfs' ? await isPoolMounted(config) : true;
  const usage = mounted ? await (await backendFor(config)).usage() : null;
  return { dataDir, backend: config.backend, root, config, mounted, usage };
}

/** `dvx storage init|status`: the engine's local storage, handled on this machine (not through the API). */
export function registerStorageCommands(program: Command): void {
  const storage = commandGroup(program, 'storage');
  storage
    .command('init')
    .description(
      "Create the data dir's storage: a btrfs pool in a sparse loop file (root) or a reflink directory backend",
    )
    .option(
      '--size <size>',
      'size of the btrfs pool file, e.g. 20G or 512M (sparse: it takes space as it fills)',
      '20G',
    )
    .option('--backend <backend>', 'btrfs or reflink (default: btrfs when root with btrfs-progs, else reflink)')
    .action(async function (this: Command) {
      const options = this.optsWithGlobals<StorageOptions & { size: string; backend?: string }>();
      if (options.backend !== undefined && options.backend !== 'btrfs' && options.backend !== 'reflink') {
        throw new ValidationError(
          `--backend "${options.backend}" is not a storage backend.`,
          [{ pointer: '/backend', message: 'expected btrfs or reflink' }],
          { action: 'Give --backend btrfs or --backend reflink.' },
        );
      }
      const sizeBytes = parseSize(options.size, '--size');
      const dataDir = resolveDataDir(options.dataDir);
      const logger = createLogger({ level: 'warn', component: 'storage' });
      const config = await initStorage({
        dataDir,
        sizeBytes,
        logger,
        ...(options.backend ? { backend: options.backend } : {}),
      });
      const status = await storageStatus(dataDir);
      print(
        options.json,
        status,
        () => `created ${config.backend} storage (${storageConfigPath(dataDir)})\n${describe(status)}`,
      );
    });
  storage
    .command('status')
    .description('Show the storage backend, its root and its usage')
    .action(async function (this: Command) {
      const options = this.optsWithGlobals<StorageOptions>();
      const status = await storageStatus(resolveDataDir(options.dataDir));
      print(options.json, status, () => describe(status));
    });
}
