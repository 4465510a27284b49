// Space and time of a sync after a small change (issue 18 §1). A 1 GiB database-like file on a source host (real
// sshd) gets 1% of its 4 KiB pages overwritten at random offsets, in place, as a database writes them; each round then
// syncs it with dvx's runSync into btrfs subvolumes (a real pool on a loop file) that were snapshotted after the
// previous round's sync, and measures what the sync added to the pool against the bytes that changed (target: at most
// 2x) and how long it took against a full `rsync -a` of the file measured in the same round.
//
// Variants, each with its own subvolume and snapshot chain, in a different order every round:
// - `runSync-engine`: runSync into an engine path (a direct dSource), in place (the default);
// - `runSync-host`: runSync from the source host into a path on the staging host (a staged dSource's staging mount);
// - `runSync-rename`: runSync with inPlace: false, what dvx did before (each changed file written anew and renamed);
// - `rsync-inplace-default-block`: rsync --inplace --no-whole-file with rsync's own block size, over OpenSSH, to show
//   why runSync compares 4 KiB blocks.
// Baselines, into a fresh subvolume each round: `full-rsync` (`rsync -a` of the file, local, whole file) and
// `full-runSync` (runSync into an empty subvolume: the whole file through dvx's path).
//
// Pool growth is measured two ways. The figure judged is the subvolume's exclusive data (`btrfs filesystem du`, read
// from the file extents each subvolume references, after the writes reached the disk): it counts exactly the data
// extents the sync wrote that no snapshot shares, whatever else the pool holds or has yet to free. The second,
// `btrfs filesystem usage` Used before and after (after a filesystem sync), adds the metadata the sync wrote but moves
// with btrfs's own bookkeeping (chunk allocation, delayed frees of earlier rounds), so it is reported beside it.
//
// DVX_BENCH_FILE_BYTES (default 1 GiB), DVX_BENCH_PAGE_BYTES (4096), DVX_BENCH_CHANGED (0.01), DVX_BENCH_ROUNDS (5).
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { open, utimes } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runBash, runSync, SshConnectionPool, type HostConnection } from '../hosts/index.js';
import { BtrfsBackend } from '../storage/index.js';
import { createTestBtrfsPool } from '../test/harness/btrfs-pool.js';
import { must } from '../test/harness/must.js';
import { startSshHosts } from '../test/harness/ssh-hosts.js';
import { median, round } from './lib/stats.js';

const run = promisify(execFile);

const FILE_BYTES = Number(process.env.DVX_BENCH_FILE_BYTES ?? 1024 ** 3);
const PAGE_BYTES = Number(process.env.DVX_BENCH_PAGE_BYTES ?? 4096);
const CHANGED_FRACTION = Number(process.env.DVX_BENCH_CHANGED ?? 0.01);
const ROUNDS = Number(process.env.DVX_BENCH_ROUNDS ?? 5);

type Variant = 'runSync-engine' | 'runSync-host' | 'runSync-rename' | 'rsync-inplace-default-block';
const VARIANTS: Variant[] = ['runSync-engine', 'runSync-host', 'runSync-rename', 'rsync-inplace-default-block'];

interface Sample {
  ms: number;
  exclusiveBytes: number;
  usedBytesAdded: number;
}

const load = () => round(loadavg()[0] ?? 0, 2);

async function usedBytes(root: string): Promise<number> {
  await run('btrfs', ['filesystem', 'sync', root]);
  const { stdout } = await run('btrfs', ['filesystem', 'usage', '-b', root]);
  return Number(must(/^\s*Used:\s+(\d+)/m.exec(stdout)?.[1], 'Used in btrfs filesystem usage'));
}

/** Overwrites `count` distinct random pages of the file in place with random data; returns the bytes changed. */
async function changePages(path: string, count: number, round: number): Promise<number> {
  const pages = Math.floor(FILE_BYTES / PAGE_BYTES);
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(randomInt(pages));
  const file = await open(path, 'r+');
  try {
    for (const page of chosen) await file.write(randomBytes(PAGE_BYTES), 0, PAGE_BYTES, page * PAGE_BYTES);
    await file.sync();
  } finally {
    await file.close();
  }
  // A modification time of its own each round: rsync tells a changed file by size and time, to the second.
  const at = Math.floor(Date.now() / 1000) - 86_400 + round;
  await utimes(path, at, at);
  return chosen.size * PAGE_BYTES;
}

export default async function sync() {
  const hosts = await startSshHosts(2);
  const connections = new SshConnectionPool();
  const pool = await createTestBtrfsPool({ sizeBytes: 16 * 1024 ** 3 });
  const startedLoad = loadavg().map((value) => round(value, 2));
  try {
    const sourceHost = must(hosts.hosts[0], 'source host');
    const stagingHost = must(hosts.hosts[1], 'staging host');
    const source: HostConnection = connections.get(sourceHost.spec());
    const staging: HostConnection = connections.get(stagingHost.spec());
    const backend = new BtrfsBackend({ root: pool.root });
    const sourceDir = join(sourceHost.home, 'db');
    const file = join(sourceDir, 'data.db');
    await runBash(source, 'mkdir -p "$D" && head -c "$BYTES" /dev/urandom > "$D/data.db"', {
      variables: { D: sourceDir, BYTES: String(FILE_BYTES) },
      check: true,
    });
    const rsh = `ssh -i ${hosts.clientKey.path} -p ${sourceHost.address.port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`;

    const syncInto = async (variant: Variant, path: string) => {
      const from = { connection: source, path: sourceDir };
      if (variant === 'runSync-engine') return runSync({ from, to: { path } });
      if (variant === 'runSync-host') return runSync({ from, to: { connection: staging, path } });
      if (variant === 'runSync-rename') return runSync({ from, to: { path }, inPlace: false });
      await run('rsync', [
        '-a',
        '--inplace',
        '--no-whole-file',
        '--delete',
        '-e',
        rsh,
        `${sourceHost.address.user}@${sourceHost.address.host}:${sourceDir}/`,
        `${path}/`,
      ]);
      return null;
    };

    // The first sync of each variant: the link. Snapshot 0 is what round 1 changes against.
    for (const variant of VARIANTS) {
      await backend.createDataset(variant);
      await syncInto(variant, backend.datasetPath(variant));
      await backend.snapshot(variant, `${variant}-0`);
    }

    const samples = Object.fromEntries(VARIANTS.map((variant) => [variant, [] as Sample[]])) as Record<
      Variant,
      Sample[]
    >;
    const fullRsyncMs: number[] = [];
    const fullRunSyncMs: number[] = [];
    const rounds = [];
    const changedPages = Math.round((FILE_BYTES / PAGE_BYTES) * CHANGED_FRACTION);
    let changedBytes = 0;
    for (let r = 1; r <= ROUNDS; r += 1) {
      const loadBefore = load();
      changedBytes = await changePages(file, changedPages, r);
      // A different order each round, so that the machine's other load and the page cache favour none.
      const order = VARIANTS.map((_, i) => must(VARIANTS[(i + r) % VARIANTS.length], 'variant'));
      const perVariant: Record<string, unknown> = {};
      for (const variant of order) {
        const path = backend.datasetPath(variant);
        const before = await usedBytes(pool.root);
        const started = performance.now();
        const stats = await syncInto(variant, path);
        const ms = performance.now() - started;
        const usedBytesAdded = (await usedBytes(pool.root)) - before;
        const exclusiveBytes = must(await backend.exclusiveBytes(variant), 'exclusive bytes');
        samples[variant].push({ ms, exclusiveBytes, usedBytesAdded });
        perVariant[variant] = {
          ms: round(ms, 1),
          exclusiveBytes,
          usedBytesAdded,
          ...(stats ? { bytesOnWire: stats.bytesOnWire, inPlace: stats.inPlace } : {}),
        };
        await backend.snapshot(variant, `${variant}-${r}`);
        await backend.destroySnapshot(`${variant}-${r - 1}`);
        // Freed before the next variant measures the pool.
        await run('btrfs', ['subvolume', 'sync', pool.root]);
      }
      // Baselines: the whole file into an empty subvolume.
      await backend.createDataset(`full-rsync-${r}`);
      let started = performance.now();
      await run('rsync', ['-a', `${sourceDir}/`, `${backend.datasetPath(`full-rsync-${r}`)}/`]);
      await run('btrfs', ['filesystem', 'sync', pool.root]);
      fullRsyncMs.push(performance.now() - started);
      await backend.createDataset(`full-runSync-${r}`);
      started = performance.now();
      await runSync({
        from: { connection: source, path: sourceDir },
        to: { path: backend.datasetPath(`full-runSync-${r}`) },
      });
      await run('btrfs', ['filesystem', 'sync', pool.root]);
      fullRunSyncMs.push(performance.now() - started);
      await backend.destroyDataset(`full-rsync-${r}`);
      await backend.destroyDataset(`full-runSync-${r}`);
      // Let btrfs free what was deleted before the next round measures.
      await run('btrfs', ['subvolume', 'sync', pool.root]);
      rounds.push({
        round: r,
        loadBefore,
        loadAfter: load(),
        changedBytes,
        fullRsyncMs: round(must(fullRsyncMs.at(-1), 'full rsync'), 1),
        fullRunSyncMs: round(must(fullRunSyncMs.at(-1), 'full runSync'), 1),
        variants: perVariant,
      });
    }

    const fullRsync = median(fullRsyncMs);
    const summary = Object.fromEntries(
      VARIANTS.map((variant) => {
        const list = samples[variant];
        const ms = median(list.map((sample) => sample.ms));
        const exclusive = median(list.map((sample) => sample.exclusiveBytes));
        const used = median(list.map((sample) => sample.usedBytesAdded));
        // Each round's sync against the same round's baselines (the same load), then the median of those ratios.
        const perRound = (baselines: number[]) =>
          round(median(list.map((sample, i) => sample.ms / must(baselines[i], 'a baseline of the round'))), 2);
        return [
          variant,
          {
            medianMs: round(ms, 1),
            medianExclusiveBytes: exclusive,
            exclusiveVsChanged: round(exclusive / changedBytes, 2),
            medianUsedBytesAdded: used,
            usedVsChanged: round(used / changedBytes, 2),
            timeVsFullRsync: round(ms / fullRsync, 2),
            timeVsFullRsyncMedianOfRounds: perRound(fullRsyncMs),
            timeVsFullRunSyncMedianOfRounds: perRound(fullRunSyncMs),
          },
        ];
      }),
    );
    const loads = rounds.flatMap((entry) => [entry.loadBefore, entry.loadAfter]);
    return {
      fileBytes: FILE_BYTES,
      pageBytes: PAGE_BYTES,
      changedPagesPerRound: changedPages,
      changedBytesPerRound: changedBytes,
      rounds: ROUNDS,
      baselines: { fullRsyncMedianMs: round(fullRsync, 1), fullRunSyncMedianMs: round(median(fullRunSyncMs), 1) },
      summary,
      target: 'runSync pool growth (exclusive data of the synced subvolume) at most 2x the changed bytes',
      load: {
        cpus: cpus().length,
        atStart: startedLoad,
        oneMinuteMedian: round(median(loads), 2),
        oneMinuteMax: Math.max(...loads),
      },
      perRound: rounds,
    };
  } finally {
    await connections.close();
    await hosts.stopAll();
    await pool.remove();
  }
}
