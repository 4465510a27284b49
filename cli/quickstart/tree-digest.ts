import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every entry under `root` by relative path: `dir`, `link <target>` or `file <sha256>` (not times or modes). Equal
 * trees give equal maps, and a test comparing two of them sees which entries differ.
 */
export async function treeEntries(root: string): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  const walk = async (relative: string): Promise<void> => {
    for (const name of (await readdir(join(root, relative))).sort()) {
      const path = relative ? `${relative}/${name}` : name;
      const full = join(root, path);
      const stats = await lstat(full);
      if (stats.isDirectory()) {
        entries[path] = 'dir';
        await walk(path);
      } else if (stats.isSymbolicLink()) entries[path] = `link ${await readlink(full)}`;
      else if (stats.isFile())
        entries[path] = `file ${createHash('sha256')
          .update(await readFile(full))
          .digest('hex')}`;
    }
  };
  await walk('');
  return entries;
}

/** One digest of a directory tree's files, links and their contents (not times or modes): equal trees, equal digests. */
export async function treeDigest(root: string): Promise<string> {
  return createHash('sha256')
    .update(JSON.stringify(await treeEntries(root)))
    .digest('hex');
}
