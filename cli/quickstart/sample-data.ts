import { randomBytes } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A small directory tree standing for a dataset: nested directories, text and binary files, a symlink. */
export async function writeSampleData(dir: string, files = 200): Promise<void> {
  for (let i = 0; i < files; i += 1) {
    const sub = join(dir, `part-${i % 10}`, `group-${i % 3}`);
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `record-${i}.bin`), randomBytes(4096 + (i % 7) * 1024));
  }
  await writeFile(join(dir, 'README.txt'), 'A sample dataset written by dvx quickstart.\n');
  await symlink('README.txt', join(dir, 'LATEST')).catch(() => undefined);
}
