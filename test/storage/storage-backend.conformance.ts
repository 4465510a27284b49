import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, chmod, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDvxError, type DvxError } from '../../errors/index.js';
import type { StorageBackend } from '../../storage/index.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { treeEntries } from '../../cli/quickstart/tree-digest.js';

/** What a conformance run needs: a backend on an empty root, and how to clean up after it. */
export interface StorageBackendFixture {
  backend: StorageBackend;
  cleanup(): Promise<void>;
}

async function rejection(promise: Promise<unknown>): Promise<DvxError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isDvxError(error)) throw new Error(`expected a DvxError, got ${String(error)}`);
  return error;
}

/** Fills a dataset with a small tree: text, binary, nested and empty folders, a symlink, an empty file. */
async function fill(dir: string): Promise<void> {
  await writeFile(join(dir, 'a.txt'), 'first version\n');
  await mkdir(join(dir, 'nested/deeper'), { recursive: true });
  await writeFile(join(dir, 'nested/deeper/b.bin'), randomBytes(1024 * 1024 + 17));
  await writeFile(join(dir, 'nested/empty-file'), '');
  await mkdir(join(dir, 'empty-dir'));
  await symlink('nested/deeper/b.bin', join(dir, 'link-to-b'));
  await writeFile(join(dir, 'private'), 'secret-ish');
  await chmod(join(dir, 'private'), 0o640);
}

function bindMount(source: string, target: string): void {
  execFileSync('mount', ['--bind', source, target]);
}

function unmount(target: string): void {
  execFileSync('umount', [target]);
}

const MiB = 1024 ** 2;
let counter = 0;
const id = (prefix: string) => `${prefix}-${process.pid}-${(counter += 1)}`;

const BAD_IDS = [
  '',
  '../escape',
  'a/b',
  '/abs',
  '.hidden',
  '..',
  '.',
  '-dash',
  'sp ace',
  'nul\0byte',
  'new\nline',
  'é',
  'x'.repeat(201),
];

/**
 * The contract every StorageBackend fulfils. Run it from a `*.test.ts` file with a factory that returns a backend
 * on a fresh, empty root. Needs root (it bind-mounts inside datasets to play a busy one).
 */
export function describeStorageBackendConformance(name: string, factory: () => Promise<StorageBackendFixture>): void {
  describe(`StorageBackend conformance: ${name}`, () => {
    let fixture: StorageBackendFixture;
    let backend: StorageBackend;
    let scratch: { path: string; remove(): Promise<void> };
    const mounted: string[] = [];
    beforeAll(async () => {
      fixture = await factory();
      backend = fixture.backend;
      scratch = await makeTempDir('storage-scratch');
    });
    afterAll(async () => {
      for (const target of mounted.reverse()) {
        try {
          unmount(target);
        } catch {
          // unmounted by the test
        }
      }
      await fixture?.cleanup();
      await scratch?.remove();
    });

    /** A dataset filled with the test tree and a snapshot of it. */
    async function filledSnapshot(): Promise<{ dataset: string; snapshot: string }> {
      const dataset = id('ds');
      const snapshot = id('snap');
      await backend.createDataset(dataset);
      await fill(backend.datasetPath(dataset));
      await backend.snapshot(dataset, snapshot);
      return { dataset, snapshot };
    }

    it('creates an empty writable dataset under its root, and leaves an existing one as it is', async () => {
      const dataset = id('ds');
      expect(await backend.hasDataset(dataset)).toBe(false);
      await backend.createDataset(dataset);
      const path = backend.datasetPath(dataset);
      expect(path.startsWith(`${backend.root}/`)).toBe(true);
      expect(await backend.hasDataset(dataset)).toBe(true);
      expect(await readdir(path)).toEqual([]);
      await writeFile(join(path, 'kept'), 'kept');
      await backend.createDataset(dataset);
      expect(await readFile(join(path, 'kept'), 'utf8')).toBe('kept');
      expect(await backend.hasSnapshot(dataset)).toBe(false);
    });

    it('snapshots a dataset as of that moment: later writes to the dataset do not reach the snapshot', async () => {
      const dataset = id('ds');
      const snapshot = id('snap');
      await backend.createDataset(dataset);
      const source = backend.datasetPath(dataset);
      await fill(source);
      const before = await treeEntries(source);
      await backend.snapshot(dataset, snapshot);
      await backend.snapshot(dataset, snapshot);
      expect(await backend.hasSnapshot(snapshot)).toBe(true);
      expect(await backend.hasDataset(snapshot)).toBe(false);

      await writeFile(join(source, 'a.txt'), 'second version\n');
      await appendFile(join(source, 'nested/deeper/b.bin'), 'more');
      await rm(join(source, 'empty-dir'), { recursive: true });
      await writeFile(join(source, 'new-file'), 'new');
      // A repeated snapshot call (a redelivered step) does not take the newer state.
      await backend.snapshot(dataset, snapshot);

      expect(await treeEntries(backend.snapshotPath(snapshot))).toEqual(before);
      expect(await readFile(join(backend.snapshotPath(snapshot), 'a.txt'), 'utf8')).toBe('first version\n');
    });

    it('makes snapshots read-only: writing into one fails, or its files carry no write permission', async () => {
      const { snapshot } = await filledSnapshot();
      const file = join(backend.snapshotPath(snapshot), 'a.txt');
      const refused = await writeFile(file, 'changed').then(
        () => false,
        () => true,
      );
      if (!refused) {
        // As root, mode bits do not stop writes; the reflink backend documents that. Undo the probe write.
        await writeFile(file, 'first version\n');
        expect((await stat(file)).mode & 0o222).toBe(0);
        expect((await stat(join(backend.snapshotPath(snapshot), 'nested/deeper/b.bin'))).mode & 0o222).toBe(0);
      }
    });

    it('clones a snapshot into a writable dataset with its contents byte for byte, independent of both', async () => {
      const { dataset, snapshot } = await filledSnapshot();
      const clone = id('clone');
      const snapshotDigest = await treeEntries(backend.snapshotPath(snapshot));

      await backend.clone(snapshot, clone);
      await backend.clone(snapshot, clone);
      expect(await backend.hasDataset(clone)).toBe(true);
      const clonePath = backend.datasetPath(clone);
      expect(await treeEntries(clonePath)).toEqual(snapshotDigest);
      expect((await stat(join(clonePath, 'private'))).mode & 0o200).toBe(0o200);

      await writeFile(join(clonePath, 'a.txt'), 'written in the clone\n');
      await appendFile(join(clonePath, 'nested/deeper/b.bin'), 'clone tail');
      await writeFile(join(clonePath, 'clone-only'), 'x');
      await rm(join(clonePath, 'link-to-b'));
      const sourceDigest = await treeEntries(backend.datasetPath(dataset));

      expect(await treeEntries(backend.snapshotPath(snapshot))).toEqual(snapshotDigest);
      expect(await treeEntries(backend.datasetPath(dataset))).toEqual(sourceDigest);
      expect(await readFile(join(backend.datasetPath(dataset), 'a.txt'), 'utf8')).toBe('first version\n');
      // A redelivered clone finds the (now changed) clone and leaves it alone.
      await backend.clone(snapshot, clone);
      expect(await readFile(join(clonePath, 'a.txt'), 'utf8')).toBe('written in the clone\n');

      // A clone of a clone's snapshot: the chain VDB → snapshot → VDB.
      const second = id('snap');
      const grandchild = id('clone');
      await backend.snapshot(clone, second);
      await backend.clone(second, grandchild);
      expect(await treeEntries(backend.datasetPath(grandchild))).toEqual(await treeEntries(clonePath));
    });

    it('keeps snapshots and clones when what they came from is destroyed', async () => {
      const { dataset, snapshot } = await filledSnapshot();
      const clone = id('clone');
      const digest = await treeEntries(backend.snapshotPath(snapshot));
      await backend.clone(snapshot, clone);
      await backend.destroyDataset(dataset);
      expect(await treeEntries(backend.snapshotPath(snapshot))).toEqual(digest);
      await backend.destroySnapshot(snapshot);
      expect(await treeEntries(backend.datasetPath(clone))).toEqual(digest);
    });

    it('says STORAGE_NOT_FOUND for a missing dataset or snapshot, and creates nothing', async () => {
      const missing = await rejection(backend.snapshot(id('missing'), id('snap')));
      expect(missing.code).toBe('STORAGE_NOT_FOUND');
      const snapshot = id('snap');
      const clone = id('clone');
      const error = await rejection(backend.clone(snapshot, clone));
      expect(error.code).toBe('STORAGE_NOT_FOUND');
      expect(error.message).toContain(snapshot);
      expect(error.retryable).toBe(false);
      expect(await backend.hasDataset(clone)).toBe(false);
      expect(existsSync(backend.datasetPath(clone))).toBe(false);
    });

    it('destroys datasets and snapshots, and a second destroy (or one of something missing) is a no-op', async () => {
      const { dataset, snapshot } = await filledSnapshot();
      await backend.destroySnapshot(snapshot);
      await backend.destroySnapshot(snapshot);
      await backend.destroyDataset(dataset);
      await backend.destroyDataset(dataset);
      expect(await backend.hasSnapshot(snapshot)).toBe(false);
      expect(await backend.hasDataset(dataset)).toBe(false);
      expect(existsSync(backend.datasetPath(dataset))).toBe(false);
      expect(existsSync(backend.snapshotPath(snapshot))).toBe(false);
      await backend.destroyDataset(id('never-made'));
      await backend.destroySnapshot(id('never-made'));
      // The name is free again.
      await backend.createDataset(dataset);
      expect(await readdir(backend.datasetPath(dataset))).toEqual([]);
    });

    it('refuses ids that are not plain names, before touching anything', async () => {
      const good = id('ds');
      await backend.createDataset(good);
      await backend.snapshot(good, id('snap'));
      const before = await treeEntries(backend.root);
      for (const bad of BAD_IDS) {
        expect(() => backend.datasetPath(bad), bad).toThrow(/not a valid dataset id/);
        expect(() => backend.snapshotPath(bad), bad).toThrow(/not a valid snapshot id/);
        for (const call of [
          () => backend.createDataset(bad),
          () => backend.snapshot(good, bad),
          () => backend.snapshot(bad, id('snap')),
          () => backend.clone(bad, id('clone')),
          () => backend.destroyDataset(bad),
          () => backend.destroySnapshot(bad),
          () => backend.hasDataset(bad),
          () => backend.exclusiveBytes(bad),
        ]) {
          const error = await rejection(call());
          expect(error.code, bad).toBe('STORAGE_FAILED');
          expect(error.retryable).toBe(false);
          expect(error.message).toContain('not a valid');
        }
      }
      expect(await treeEntries(backend.root)).toEqual(before);
      expect(existsSync(join(dirname(backend.root), 'escape'))).toBe(false);
    });

    it('refuses (STORAGE_BUSY) to destroy a dataset with a mount inside it, and destroys it once unmounted', async () => {
      const dataset = id('ds');
      await backend.createDataset(dataset);
      await fill(backend.datasetPath(dataset));
      const inside = join(backend.datasetPath(dataset), 'mnt');
      await mkdir(inside);
      bindMount(scratch.path, inside);
      mounted.push(inside);
      const error = await rejection(backend.destroyDataset(dataset));
      expect(error.code).toBe('STORAGE_BUSY');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain(inside);
      expect(await backend.hasDataset(dataset)).toBe(true);
      expect(await readFile(join(backend.datasetPath(dataset), 'a.txt'), 'utf8')).toBe('first version\n');
      unmount(inside);
      await backend.destroyDataset(dataset);
      expect(await backend.hasDataset(dataset)).toBe(false);
      expect(existsSync(scratch.path)).toBe(true);
    });

    it('refuses (STORAGE_BUSY) to destroy a dataset or snapshot that is mounted elsewhere', async () => {
      const { dataset, snapshot } = await filledSnapshot();
      const elsewhere = join(scratch.path, id('mountpoint'));
      await mkdir(elsewhere);
      bindMount(backend.datasetPath(dataset), elsewhere);
      mounted.push(elsewhere);
      const error = await rejection(backend.destroyDataset(dataset));
      expect(error.code).toBe('STORAGE_BUSY');
      expect(error.message).toContain(elsewhere);
      expect(await readFile(join(elsewhere, 'a.txt'), 'utf8')).toBe('first version\n');
      unmount(elsewhere);

      bindMount(join(backend.snapshotPath(snapshot), 'nested'), elsewhere);
      expect((await rejection(backend.destroySnapshot(snapshot))).code).toBe('STORAGE_BUSY');
      unmount(elsewhere);
      await backend.destroySnapshot(snapshot);
      await backend.destroyDataset(dataset);
    });

    it('reports sane pool usage and exclusive sizes', async () => {
      const usage = await backend.usage();
      expect(usage.totalBytes).toBeGreaterThan(0);
      expect(usage.usedBytes).toBeGreaterThan(0);
      expect(usage.freeBytes).toBeGreaterThan(0);
      expect(usage.usedBytes + usage.freeBytes).toBeLessThanOrEqual(usage.totalBytes);
      const dataset = id('ds');
      await backend.createDataset(dataset);
      await fill(backend.datasetPath(dataset));
      execFileSync('sync');
      const exclusive = await backend.exclusiveBytes(dataset);
      if (exclusive !== null) expect(exclusive).toBeGreaterThanOrEqual(1024 * 1024);
      expect(await backend.exclusiveBytes(id('missing'))).toBeNull();
    });

    it('counts space as it is taken: free space drops at once when a dataset fills, before any commit', async () => {
      const dataset = id('ds');
      await backend.createDataset(dataset);
      const dir = backend.datasetPath(dataset);
      // A root on a filesystem others write to (the ext4 one) sees their writes and deletes too: a few tries, and
      // one must show the drop. Without counting what is not committed yet, none does on btrfs.
      const drops: number[] = [];
      for (let attempt = 0; attempt < 5 && !drops.some((drop) => drop >= 60 * MiB); attempt += 1) {
        execFileSync('sync', ['-f', dir]);
        const before = (await backend.usage()).freeBytes;
        // Reserved (fallocate) and written (dirty, not yet flushed) data: what a VDB filling the pool does.
        execFileSync('fallocate', ['-l', String(48 * MiB), join(dir, 'reserved')]);
        await writeFile(join(dir, 'written'), Buffer.alloc(16 * MiB, 1));
        const after = await backend.usage();
        drops.push(before - after.freeBytes);
        expect(after.usedBytes + after.freeBytes).toBeLessThanOrEqual(after.totalBytes);
        await rm(join(dir, 'reserved'));
        await rm(join(dir, 'written'));
      }
      expect(Math.max(...drops), `drops: ${drops.join(', ')}`).toBeGreaterThanOrEqual(60 * MiB);
      await backend.destroyDataset(dataset);
    });
  });
}
