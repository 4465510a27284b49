import { statfs } from 'node:fs/promises';
import type { StorageUsage } from './storage-backend.js';

/** Size, free space (for an unprivileged writer) and used space of the filesystem holding `path`. */
export async function filesystemUsage(path: string): Promise<StorageUsage> {
  const fs = await statfs(path);
  return {
    totalBytes: fs.blocks * fs.bsize,
    freeBytes: fs.bavail * fs.bsize,
    usedBytes: (fs.blocks - fs.bfree) * fs.bsize,
  };
}
