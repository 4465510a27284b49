import { readFile, realpath } from 'node:fs/promises';
import { StorageError } from '../errors/index.js';

/** One line of /proc/self/mountinfo. */
export interface MountEntry {
  /** `major:minor` of the mounted filesystem. */
  device: string;
  /** The directory of that filesystem shown at the mount point (`/` unless a bind or subvolume mount). */
  root: string;
  mountPoint: string;
  fsType: string;
  source: string;
}

/** Decodes the octal escapes of /proc/self/mountinfo paths (`\040` for a space). */
function unescape(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** The mounts of this mount namespace, in mount order. */
export async function localMounts(): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(' ');
      const [, , device = '', root = '', mountPoint = ''] = fields;
      const separator = fields.indexOf('-');
      return {
        device,
        root: unescape(root),
        mountPoint: unescape(mountPoint),
        fsType: fields[separator + 1] ?? '',
        source: unescape(fields[separator + 2] ?? ''),
      };
    });
}

/** Mount points of this mount namespace. */
export async function localMountPoints(): Promise<string[]> {
  return (await localMounts()).map((mount) => mount.mountPoint);
}

const within = (path: string, dir: string) => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);

/** Mount points at `path` or below it. */
export async function mountsUnder(path: string): Promise<string[]> {
  const prefix = path.replace(/(?<=.)\/+$/, '');
  return (await localMounts()).map((mount) => mount.mountPoint).filter((mountPoint) => within(mountPoint, prefix));
}

/**
 * Mount points that use the directory `path`: mounted on it or inside it, or showing it (or a folder of it)
 * elsewhere, such as a bind mount of a dataset at a VDB's mount path. Found from mountinfo alone: the filesystem
 * device and the directory within it that each mount shows.
 */
export async function mountsUsing(path: string): Promise<string[]> {
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return mountsUnder(path);
  }
  const mounts = await localMounts();
  const containing = mounts
    .filter((mount) => within(real, mount.mountPoint))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
  const found = new Set(mounts.map((mount) => mount.mountPoint).filter((mountPoint) => within(mountPoint, real)));
  if (containing) {
    const rest = real.slice(containing.mountPoint === '/' ? 0 : containing.mountPoint.length);
    const inFilesystem = containing.root === '/' ? rest || '/' : `${containing.root}${rest}`;
    for (const mount of mounts) {
      if (mount !== containing && mount.device === containing.device && within(mount.root, inFilesystem))
        found.add(mount.mountPoint);
    }
  }
  return [...found];
}

/** Refuses (STORAGE_BUSY, naming the mounts) to destroy `what` at `path` while a mount still uses it. */
export async function refuseIfMounted(path: string, what: string): Promise<void> {
  const mounts = await mountsUsing(path);
  if (mounts.length) {
    throw new StorageError({
      code: 'STORAGE_BUSY',
      message: `${what} is in use: mounted at ${mounts.join(', ')}.`,
      action: 'Unmount it first (disable the VDB or dSource using it).',
      details: { mounts },
    });
  }
}
