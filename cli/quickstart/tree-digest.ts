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

/** Compares two relative paths segment by segment, as a walk with sorted directory listings meets them. */
function walkOrder(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let i = 0; i < Math.min(left.length, right.length); i += 1) {
    const x = left[i] ?? '';
    const y = right[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return left.length - right.length;
}

/**
 * The digest of entries as {@link treeEntries} gives them, in whatever order they were listed (a listing made on
 * another host, for one): the same tree gives the same digest as {@link treeDigest}.
 */
export function entriesDigest(entries: Record<string, string>): string {
  const ordered: Record<string, string> = {};
  for (const path of Object.keys(entries).sort(walkOrder)) ordered[path] = entries[path] ?? '';
  return createHash('sha256').update(JSON.stringify(ordered)).digest('hex');
}

/** One digest of a directory tree's files, links and their contents (not times or modes): equal trees, equal digests. */
export async function treeDigest(root: string): Promise<string> {
  return entriesDigest(await treeEntries(root));
}
