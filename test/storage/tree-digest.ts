import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Every entry under `dir` (relative path → kind and content hash / link target), to compare trees byte for byte. */
export async function treeDigest(dir: string): Promise<Record<string, string>> {
  const digest: Record<string, string> = {};
  async function walk(relative: string): Promise<void> {
    for (const name of (await readdir(join(dir, relative))).sort()) {
      const path = join(relative, name);
      const info = await lstat(join(dir, path));
      if (info.isSymbolicLink()) digest[path] = `link ${await readlink(join(dir, path))}`;
      else if (info.isDirectory()) {
        digest[path] = 'dir';
        await walk(path);
      } else digest[path] = `file ${createHash('sha256').update(await readFile(join(dir, path))).digest('hex')}`;
    }
  }
  await walk('');
  return digest;
}
