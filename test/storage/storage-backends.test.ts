import { Writable } from 'node:stream';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtrfsBackend, ReflinkBackend } from '../../storage/index.js';
import { createTestBtrfsPool, type TestBtrfsPool } from '../harness/btrfs-pool.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { must } from '../harness/must.js';
import { describeStorageBackendConformance } from './storage-backend.conformance.js';
import { treeEntries } from '../../cli/quickstart/tree-digest.js';

/** A pino logger that keeps its records, to check what a backend warned about. */
function recordingLogger() {
  const records: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        records.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), warnings: () => records.filter((record) => record.level === 40) };
}

let pool: TestBtrfsPool;
beforeAll(async () => {
  pool = await createTestBtrfsPool();
});
afterAll(async () => {
  await pool?.remove();
});

describeStorageBackendConformance('btrfs subvolumes on a loop-file pool', async () => ({
  backend: new BtrfsBackend({ root: join(pool.root, 'conformance') }),
  cleanup: async () => undefined,
}));

describeStorageBackendConformance('reflink directories on btrfs (FICLONE)', async () => {
  const root = join(pool.root, 'reflink');
  await mkdir(root);
  return { backend: new ReflinkBackend({ root }), cleanup: async () => undefined };
});

describeStorageBackendConformance('reflink directories on ext4 (full copies)', async () => {
  const temp = await makeTempDir('reflink-ext4');
  return { backend: new ReflinkBackend({ root: temp.path }), cleanup: () => temp.remove() };
});

describe('ReflinkBackend', () => {
  it('reflinks on btrfs without a warning', async () => {
    const { logger, warnings } = recordingLogger();
    const backend = new ReflinkBackend({ root: join(pool.root, 'reflink-probe'), logger });
    expect(await backend.supportsReflink()).toBe(true);
    await backend.createDataset('ds');
    await backend.snapshot('ds', 'snap');
    await backend.clone('snap', 'clone');
    expect(warnings()).toEqual([]);
  });

  it('falls back to full copies on ext4 and says so in one warning, however many copies it makes', async () => {
    const temp = await makeTempDir('reflink-warn');
    try {
      const { logger, warnings } = recordingLogger();
      const backend = new ReflinkBackend({ root: temp.path, logger });
      await backend.createDataset('ds');
      await writeFile(join(backend.datasetPath('ds'), 'file'), 'data');
      await Promise.all([backend.snapshot('ds', 'snap-1'), backend.snapshot('ds', 'snap-2')]);
      await backend.clone('snap-1', 'clone-1');
      await backend.clone('snap-2', 'clone-2');
      expect(await readFile(join(backend.datasetPath('clone-2'), 'file'), 'utf8')).toBe('data');
      expect(await backend.supportsReflink()).toBe(false);
      expect(warnings()).toHaveLength(1);
      expect(must(warnings()[0], 'a warning').msg).toMatch(/full copies/);
    } finally {
      await temp.remove();
    }
  });

  it('redoes a clone and a snapshot that a crash left half made, and finishes an interrupted destroy', async () => {
    const temp = await makeTempDir('reflink-crash');
    try {
      const backend = new ReflinkBackend({ root: temp.path });
      await backend.createDataset('ds');
      await writeFile(join(backend.datasetPath('ds'), 'whole'), 'all of it');
      await backend.snapshot('ds', 'snap');
      // What a copy killed half way leaves: a partial tree under the work folder, nothing under the real name.
      await mkdir(join(temp.path, '.tmp', 'datasets--clone'), { recursive: true });
      await writeFile(join(temp.path, '.tmp', 'datasets--clone', 'half'), 'half');
      await mkdir(join(temp.path, '.tmp', 'snapshots--snap-2'), { recursive: true });
      expect(await backend.hasDataset('clone')).toBe(false);
      await backend.clone('snap', 'clone');
      await backend.snapshot('ds', 'snap-2');
      expect(await treeEntries(backend.datasetPath('clone'))).toEqual(await treeEntries(backend.snapshotPath('snap')));
      expect(await treeEntries(backend.snapshotPath('snap-2'))).toEqual(await treeEntries(backend.datasetPath('ds')));
      // A destroy interrupted after its rename leaves the tree in the trash; the next destroy clears it.
      await mkdir(join(temp.path, '.trash', 'left-over', 'deep'), { recursive: true });
      await backend.destroyDataset('clone');
      expect(await readdir(join(temp.path, '.trash'))).toEqual([]);
      expect(await readdir(join(temp.path, '.tmp'))).toEqual([]);
    } finally {
      await temp.remove();
    }
  });
});

describe('BtrfsBackend', () => {
  it('refuses to work on a directory that is not on btrfs (an unmounted pool), and creates nothing there', async () => {
    const temp = await makeTempDir('not-btrfs');
    try {
      const backend = new BtrfsBackend({ root: temp.path });
      const error = await backend.createDataset('ds').then(
        () => null,
        (caught: { code?: string; message: string }) => caught,
      );
      expect(error?.code).toBe('STORAGE_UNSUPPORTED');
      expect(error?.message).toMatch(/not on a btrfs filesystem/);
      expect(await readdir(temp.path)).toEqual([]);
    } finally {
      await temp.remove();
    }
  });
});
