import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { detachBtrfsPool, initBtrfsPool, mountsUsing, type BtrfsPoolConfig } from '../../storage/index.js';
import { makeTempDir } from './temp-dir.js';
import { must } from './must.js';

const execFileAsync = promisify(execFile);

/** A btrfs pool on a loop file in a temp dir, for one test file. */
export interface TestBtrfsPool {
  /** The pool's mount point: a BtrfsBackend root. */
  root: string;
  /** The data dir holding storage/pool.img and storage/storage.json. */
  dataDir: string;
  /** What storage.json records. */
  config: BtrfsPoolConfig;
  /** Unmounts the pool (and anything a test left mounted inside it), frees its loop device and deletes everything. */
  remove(): Promise<void>;
}

/** Options of {@link createTestBtrfsPool}. */
export interface TestBtrfsPoolOptions {
  /** Size of the sparse image. @defaultValue 2 GiB */
  sizeBytes?: number;
}

const live = new Set<TestBtrfsPool>();
let hooked = false;

/** Frees every loop device still backed by `image` (a lazy unmount leaves it to the kernel otherwise). */
function freeLoopDevicesSync(image: string): void {
  try {
    const devices = execFileSync('losetup', ['--list', '--noheadings', '--output', 'NAME', '--associated', image], {
      encoding: 'utf8',
    });
    for (const device of devices
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)) {
      try {
        execFileSync('losetup', ['-d', device]);
      } catch {
        // busy: autoclear frees it when the last user goes
      }
    }
  } catch {
    // losetup missing or the image gone
  }
}

/** Lazily unmounts the pool and every mount of its datasets elsewhere (bind mounts a test left behind). */
function unmountPoolSync(root: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '))
    .map((fields) => ({
      device: must(fields[2], 'fields[2]'),
      mountPoint: must(fields[4], 'fields[4]').replace(/\\([0-7]{3})/g, (_, octal: string) =>
        String.fromCharCode(parseInt(octal, 8)),
      ),
    }));
  const device = mounts.find((mount) => mount.mountPoint === root)?.device;
  if (device === undefined) return;
  for (const mount of mounts.filter((entry) => entry.device === device).reverse()) {
    try {
      execFileSync('umount', ['-l', mount.mountPoint]);
    } catch {
      // already gone
    }
  }
}

function installExitHook(): void {
  if (hooked) return;
  hooked = true;
  // A suite that failed before its afterAll still leaves no mount, loop device or image behind.
  process.once('exit', () => {
    for (const left of live) {
      unmountPoolSync(left.root);
      freeLoopDevicesSync(left.config.image);
      rmSync(left.dataDir, { recursive: true, force: true });
    }
  });
}

/** Makes a btrfs pool in a sparse loop file under a fresh temp dir (through initBtrfsPool). Needs root. */
export async function createTestBtrfsPool(options: TestBtrfsPoolOptions = {}): Promise<TestBtrfsPool> {
  const temp = await makeTempDir('btrfs');
  let config: BtrfsPoolConfig;
  try {
    config = await initBtrfsPool({ dataDir: temp.path, sizeBytes: options.sizeBytes ?? 2 * 1024 ** 3 });
  } catch (error) {
    await temp.remove();
    throw error;
  }
  installExitHook();
  const pool: TestBtrfsPool = {
    root: config.mountPoint,
    dataDir: temp.path,
    config,
    async remove() {
      // Mounts inside the pool, and bind mounts of its datasets elsewhere, would keep the filesystem (and its loop
      // device) alive after the unmount.
      const using = (await mountsUsing(config.mountPoint)).filter((mount) => mount !== config.mountPoint).reverse();
      for (const mount of using) await execFileAsync('umount', ['-l', mount]).catch(() => undefined);
      await detachBtrfsPool(config);
      live.delete(pool);
      await temp.remove();
    },
  };
  live.add(pool);
  return pool;
}
