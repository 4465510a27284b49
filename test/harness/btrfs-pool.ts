import { execFileSync } from 'node:child_process';
import { initBtrfsPool, detachBtrfsPool } from '../../storage/index.js';
import { makeTempDir } from './temp-dir.js';

/** A btrfs pool on a loop file in a temp dir, for one test file. */
export interface TestBtrfsPool {
  /** The pool's mount point: a BtrfsBackend root. */
  root: string;
  /** The data dir holding storage/pool.img and storage/storage.json. */
  dataDir: string;
  /** Unmounts the pool (freeing its loop device) and deletes everything. */
  remove(): Promise<void>;
}

const live = new Set<TestBtrfsPool>();
let hooked = false;

export async function createTestBtrfsPool(options: { sizeBytes?: number } = {}): Promise<TestBtrfsPool> {
  const temp = await makeTempDir('btrfs');
  const config = await initBtrfsPool({ dataDir: temp.path, sizeBytes: options.sizeBytes ?? 2 * 1024 ** 3 });
  const pool: TestBtrfsPool = {
    root: config.mountPoint,
    dataDir: temp.path,
    async remove() {
      live.delete(pool);
      await detachBtrfsPool(config);
      await temp.remove();
    },
  };
  live.add(pool);
  if (!hooked) {
    hooked = true;
    // A failed suite still unmounts its pools (umount -l: the test process may hold files there).
    process.once('exit', () => {
      for (const left of live) {
        try {
          execFileSync('umount', ['-l', left.root]);
        } catch {
          // already gone
        }
      }
    });
  }
  return pool;
}
