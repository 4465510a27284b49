import { statfs } from 'node:fs/promises';
import { btrfsUncommittedDataBytes } from './btrfs-uncommitted.js';
import type { StorageUsage } from './storage-backend.js';

const BTRFS_SUPER_MAGIC = 0x9123683e;

/**
 * Size, free space (for an unprivileged writer) and used space of the filesystem holding `path`, from statfs. On
 * btrfs, statfs's free space is the `Free (statfs, df)` line of `btrfs filesystem usage` (unallocated space plus
 * what is free in data chunks; 0 when metadata is nearly full) as of the last commit: data written or fallocated
 * since then is taken off it here, so that free space drops as a pool fills, not up to 30 s later.
 */
export async function filesystemUsage(path: string): Promise<StorageUsage> {
  const fs = await statfs(path);
  const totalBytes = fs.blocks * fs.bsize;
  const uncommitted = fs.type === BTRFS_SUPER_MAGIC ? await btrfsUncommittedDataBytes(path) : 0;
  return {
    totalBytes,
    freeBytes: Math.max(0, fs.bavail * fs.bsize - uncommitted),
    usedBytes: Math.min(totalBytes, (fs.blocks - fs.bfree) * fs.bsize + uncommitted),
  };
}
