// runSync on copy-on-write storage: a sync after a small change of a big file writes only the blocks that changed, so
// the dataset keeps sharing the rest with the snapshot taken after the previous sync. Real sshd hosts, rsync and a
// btrfs pool on a loop file.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inPlaceArgs, runBash, runSync, SshConnectionPool, type HostConnection } from '../../hosts/index.js';
import { BtrfsBackend } from '../../storage/index.js';
import { createTestBtrfsPool, type TestBtrfsPool } from '../harness/btrfs-pool.js';
import { must } from '../harness/must.js';
import { startSshHosts, type TestSshHosts } from '../harness/ssh-hosts.js';

const FILE_BYTES = 16 * 1024 * 1024;
const PAGE = 4096;
const CHANGED_PAGES = 16;

let set: TestSshHosts;
let pool: SshConnectionPool;
let btrfs: TestBtrfsPool;
let backend: BtrfsBackend;
let source: HostConnection;
let staging: HostConnection;
let sourceDir: string;
let counter = 0;

beforeAll(async () => {
  set = await startSshHosts(2);
  pool = new SshConnectionPool();
  source = pool.get(must(set.hosts[0], 'host 0').spec());
  staging = pool.get(must(set.hosts[1], 'host 1').spec());
  btrfs = await createTestBtrfsPool({ sizeBytes: 1024 ** 3 });
  backend = new BtrfsBackend({ root: btrfs.root });
  sourceDir = join(must(set.hosts[0], 'host 0').home, 'db');
});
afterAll(async () => {
  await pool?.close();
  await set?.stopAll();
  await btrfs?.remove();
});

/** A fresh source: one database-like file of random pages, and a small one. */
async function makeSource(): Promise<void> {
  await runBash(
    source,
    'rm -rf -- "$D" && mkdir -p "$D" && head -c "$BYTES" /dev/urandom > "$D/data.db" && echo small > "$D/small"',
    { variables: { D: sourceDir, BYTES: String(FILE_BYTES) }, check: true },
  );
}

/** Overwrites CHANGED_PAGES random pages of the file in place, as a database does. */
async function changePages(): Promise<void> {
  await runBash(
    source,
    String.raw`
    set -e
    for i in $(seq "$N"); do
      page=$(( (RANDOM * 32768 + RANDOM) % (BYTES / PAGE) ))
      head -c "$PAGE" /dev/urandom | dd of="$D/data.db" bs="$PAGE" seek="$page" conv=notrunc status=none
    done
    # rsync tells a changed file by its size and modification time, to the second: make sure the time differs.
    touch -d "@$(( $(date +%s) - 3600 ))" "$D/data.db"
    `,
    {
      variables: { D: sourceDir, N: String(CHANGED_PAGES), PAGE: String(PAGE), BYTES: String(FILE_BYTES) },
      check: true,
    },
  );
}

const sha = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

type Destination = 'an engine path' | 'a path on another host';

/** Links and syncs into a fresh dataset, snapshots it, changes some pages and syncs again; the second sync's stats. */
async function syncTwice(where: Destination, inPlace: boolean) {
  const dataset = `cow-${(counter += 1)}`;
  await backend.createDataset(dataset);
  const path = backend.datasetPath(dataset);
  const to = where === 'an engine path' ? { path } : { connection: staging, path };
  await makeSource();
  await runSync({ from: { connection: source, path: sourceDir }, to, inPlace });
  await backend.snapshot(dataset, `${dataset}-1`);
  await changePages();
  const stats = await runSync({ from: { connection: source, path: sourceDir }, to, inPlace });
  expect(await sha(join(path, 'data.db'))).toBe(await sha(join(sourceDir, 'data.db')));
  // Data extents the dataset references and its snapshot does not: what the second sync added to the pool (once
  // written out: btrfs places delayed writes only then).
  await runBash(staging, 'sync -f "$P"', { variables: { P: path }, check: true });
  const exclusive = must(await backend.exclusiveBytes(dataset), 'exclusive bytes');
  return { stats, exclusive };
}

describe('runSync into btrfs after a small change', () => {
  for (const where of ['an engine path', 'a path on another host'] as const) {
    it(`into ${where}: writes only the changed pages, the rest stays shared with the previous snapshot`, async () => {
      const { stats, exclusive } = await syncTwice(where, true);
      expect(stats.inPlace).toBe(true);
      expect(stats.filesTransferred).toBe(1);
      // At most the changed pages (two of them may fall on one), never the file.
      expect(exclusive).toBeGreaterThan(0);
      expect(exclusive).toBeLessThanOrEqual(CHANGED_PAGES * PAGE);
    });
  }

  it('shares nothing of a changed file when asked not to write in place', async () => {
    const { stats, exclusive } = await syncTwice('an engine path', false);
    expect(stats.inPlace).toBe(false);
    expect(exclusive).toBeGreaterThanOrEqual(FILE_BYTES);
  });
});

describe('runSync into a destination holding hard links', () => {
  for (const where of ['an engine path', 'a path on another host'] as const) {
    it(`into ${where}: does not write in place, so a link the source broke does not carry one file's data into the other`, async () => {
      const dataset = `links-${(counter += 1)}`;
      await backend.createDataset(dataset);
      const path = backend.datasetPath(dataset);
      const to = where === 'an engine path' ? { path } : { connection: staging, path };
      // a and b are one file on the source, and so at the destination after the first sync.
      await runBash(
        source,
        'rm -rf -- "$D" && mkdir -p "$D" && head -c 200000 /dev/urandom > "$D/a" && ln "$D/a" "$D/b"',
        { variables: { D: sourceDir }, check: true },
      );
      expect((await runSync({ from: { connection: source, path: sourceDir }, to })).inPlace).toBe(true);
      // a becomes a changed copy of its own (as a tool writing a temporary file and renaming it leaves it); b keeps the
      // old data.
      await runBash(
        source,
        'cp "$D/a" "$D/a.new" && printf XXXX | dd of="$D/a.new" bs=1 seek=5000 conv=notrunc status=none && touch -d "@$(( $(date +%s) - 3600 ))" "$D/a.new" && mv "$D/a.new" "$D/a"',
        { variables: { D: sourceDir }, check: true },
      );
      const stats = await runSync({ from: { connection: source, path: sourceDir }, to });
      expect(stats.inPlace).toBe(false);
      expect(await sha(join(path, 'a'))).toBe(await sha(join(sourceDir, 'a')));
      expect(await sha(join(path, 'b'))).toBe(await sha(join(sourceDir, 'b')));
      expect(await sha(join(path, 'a'))).not.toBe(await sha(join(path, 'b')));
    });
  }
});

describe('inPlaceArgs', () => {
  it('compares 4 KiB blocks up to 32 GiB files, then doubles the block per doubling of the largest file, up to 128 KiB', () => {
    const block = (bytes: number) => inPlaceArgs(bytes).find((arg) => arg.startsWith('--block-size='));
    expect(inPlaceArgs(0)).toEqual(['--inplace', '--no-whole-file', '--block-size=4096']);
    expect(block(32 * 1024 ** 3)).toBe('--block-size=4096');
    expect(block(32 * 1024 ** 3 + 1)).toBe('--block-size=8192');
    expect(block(100 * 1024 ** 3)).toBe('--block-size=16384');
    expect(block(1024 ** 4)).toBe('--block-size=131072');
    expect(block(64 * 1024 ** 4)).toBe('--block-size=131072');
  });
});
