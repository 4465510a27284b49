import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { registerStorageCommands } from '../../cli/commands/storage-commands.js';
import { isDvxError, type DvxError } from '../../errors/index.js';
import { detachBtrfsPool, isPoolMounted, parseSize } from '../../storage/index.js';
import { makeTempDir } from '../harness/temp-dir.js';

/** A program like dvx's, with its global options and only the storage commands; returns what they printed. */
async function dvx(args: string[]): Promise<string> {
  const program = new Command('dvx')
    .option('--data-dir <dir>')
    .option('--json')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerStorageCommands(program);
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  try {
    await program.parseAsync(['node', 'dvx', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}

async function rejection(promise: Promise<unknown>): Promise<DvxError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isDvxError(error)) throw new Error(`expected a DvxError, got ${String(error)}`);
  return error;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function dataDir(): Promise<string> {
  const temp = await makeTempDir('storage-cli');
  cleanups.push(async () => {
    await detachBtrfsPool({
      image: join(temp.path, 'storage', 'pool.img'),
      mountPoint: join(temp.path, 'storage', 'pool'),
    });
    await temp.remove();
  });
  return temp.path;
}

describe('dvx storage', () => {
  it('status says there is no storage yet in a fresh data dir', async () => {
    const dir = await dataDir();
    expect(await dvx(['--data-dir', dir, 'storage', 'status'])).toMatch(/no storage in .* yet/);
    expect(JSON.parse(await dvx(['--data-dir', dir, '--json', 'storage', 'status']))).toMatchObject({
      dataDir: dir,
      backend: null,
      usage: null,
    });
  });

  it('init --size 300M makes a mounted btrfs pool; status shows it with its usage; a second init is refused', async () => {
    const dir = await dataDir();
    const text = await dvx(['--data-dir', dir, 'storage', 'init', '--size', '300M', '--backend', 'btrfs']);
    expect(text).toContain('created btrfs storage');
    const status = JSON.parse(await dvx(['--data-dir', dir, '--json', 'storage', 'status'])) as {
      backend: string;
      root: string;
      mounted: boolean;
      config: { sizeBytes: number };
      usage: { totalBytes: number };
    };
    expect(status).toMatchObject({
      backend: 'btrfs',
      root: join(dir, 'storage', 'pool'),
      mounted: true,
      config: { sizeBytes: 300 * 1024 ** 2 },
    });
    expect(status.usage.totalBytes).toBeGreaterThan(200 * 1024 ** 2);
    expect(await isPoolMounted({ mountPoint: status.root })).toBe(true);
    expect(await dvx(['--data-dir', dir, 'storage', 'status'])).toMatch(
      /backend\s+btrfs[\s\S]*mounted\s+yes[\s\S]*usage/,
    );

    const again = await rejection(dvx(['--data-dir', dir, 'storage', 'init', '--backend', 'reflink']));
    expect(again.code).toBe('STORAGE_EXISTS');
    expect(JSON.parse(await readFile(join(dir, 'storage', 'storage.json'), 'utf8'))).toMatchObject({
      backend: 'btrfs',
    });

    await detachBtrfsPool({ image: join(dir, 'storage', 'pool.img'), mountPoint: status.root });
    expect(JSON.parse(await dvx(['--data-dir', dir, '--json', 'storage', 'status']))).toMatchObject({
      backend: 'btrfs',
      mounted: false,
      usage: null,
    });
  });

  it('init --backend reflink records a directory backend', async () => {
    const dir = await dataDir();
    const status = JSON.parse(await dvx(['--data-dir', dir, '--json', 'storage', 'init', '--backend', 'reflink'])) as {
      backend: string;
      root: string;
      usage: { freeBytes: number };
    };
    expect(status).toMatchObject({ backend: 'reflink', root: join(dir, 'storage', 'datasets') });
    expect(status.usage.freeBytes).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'storage', 'pool.img'))).toBe(false);
  });

  it('refuses a bad size or backend, changing nothing', async () => {
    const dir = await dataDir();
    const size = await rejection(dvx(['--data-dir', dir, 'storage', 'init', '--size', 'big']));
    expect(size.code).toBe('VALIDATION_FAILED');
    expect(size.message).toContain('--size "big"');
    const backend = await rejection(dvx(['--data-dir', dir, 'storage', 'init', '--backend', 'zfs']));
    expect(backend.code).toBe('VALIDATION_FAILED');
    expect(backend.message).toContain('zfs');
    const small = await rejection(dvx(['--data-dir', dir, 'storage', 'init', '--size', '10M', '--backend', 'btrfs']));
    expect(small.code).toBe('VALIDATION_FAILED');
    expect(existsSync(join(dir, 'storage', 'storage.json'))).toBe(false);
  });
});

describe('parseSize', () => {
  it('reads bytes and binary K, M, G, T suffixes', () => {
    expect(parseSize('1048576')).toBe(1024 ** 2);
    expect(parseSize('512M')).toBe(512 * 1024 ** 2);
    expect(parseSize('20G')).toBe(20 * 1024 ** 3);
    expect(parseSize('20g')).toBe(20 * 1024 ** 3);
    expect(parseSize('1T')).toBe(1024 ** 4);
    expect(parseSize('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('64KiB')).toBe(64 * 1024);
  });

  it('refuses anything else with a ValidationError naming the option', () => {
    for (const bad of ['', 'G', '-1G', '0', '12X', '1e9', 'twenty', '5 GB extra']) {
      expect(() => parseSize(bad, '--size'), bad).toThrow(/--size .* is not a size/);
    }
  });
});
