import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { localMounts } from './local-mounts.js';

const SYSFS_BTRFS = '/sys/fs/btrfs';

const within = (path: string, dir: string) => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);

/** `/sys/fs/btrfs/<fsid>` of the btrfs filesystem holding `path`, found from mountinfo and sysfs alone; else null. */
async function sysfsDirOf(path: string): Promise<string | null> {
  const real = await realpath(path);
  const mount = (await localMounts())
    .filter((entry) => within(real, entry.mountPoint))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
  if (mount?.fsType !== 'btrfs') return null;
  // The filesystem's devices are listed by kernel name under devices/ (loop1, sda2, dm-0). Looked up at each call
  // (a few small reads): a pool unmounted and mounted again may be on another loop device.
  const device = basename(await realpath(mount.source).catch(() => mount.source));
  for (const fsid of await readdir(SYSFS_BTRFS).catch(() => [] as string[])) {
    const devices = await readdir(join(SYSFS_BTRFS, fsid, 'devices')).catch(() => [] as string[]);
    if (devices.includes(device)) return join(SYSFS_BTRFS, fsid);
  }
  return null;
}

/**
 * Data space btrfs has promised but not yet committed, on the btrfs filesystem holding `path`: extents reserved by
 * fallocate or being written (`bytes_reserved`) and dirty data not yet allocated (`bytes_may_use`), from
 * `/sys/fs/btrfs/<fsid>/allocation/data/`. statfs (and `btrfs filesystem usage`) count them only once the
 * transaction commits (every 30 s by default), so a pool filled a moment ago still looks free there. 0 when the
 * path is not on btrfs or sysfs does not tell.
 */
export async function btrfsUncommittedDataBytes(path: string): Promise<number> {
  try {
    const dir = await sysfsDirOf(path);
    if (!dir) return 0;
    const read = async (name: string) => Number((await readFile(join(dir, 'allocation', 'data', name), 'utf8')).trim());
    const [reserved, mayUse] = await Promise.all([read('bytes_reserved'), read('bytes_may_use')]);
    return Number.isFinite(reserved + mayUse) ? reserved + mayUse : 0;
  } catch {
    return 0;
  }
}
