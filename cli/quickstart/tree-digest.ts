import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** A digest of a directory tree's files, links and their contents (not times or modes): equal trees, equal digests. */
export async function treeDigest(root: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (relative: string): Promise<void> => {
    const entries = (await readdir(join(root, relative), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      const full = join(root, path);
      const stats = await lstat(full);
      if (stats.isDirectory()) {
        hash.update(`d ${path}\n`);
        await walk(path);
      } else if (stats.isSymbolicLink()) {
        hash.update(`l ${path} ${await readlink(full)}\n`);
      } else if (stats.isFile()) {
        hash.update(`f ${path} ${stats.size}\n`);
        hash.update(await readFile(full));
      }
    }
  };
  await walk('');
  return hash.digest('hex');
}
