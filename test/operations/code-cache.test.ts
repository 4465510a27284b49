import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../harness/temp-dir.js';

const execFileAsync = promisify(execFile);
let temp: Awaited<ReturnType<typeof makeTempDir>>;

beforeAll(async () => {
  temp = await makeTempDir('code-cache');
});
afterAll(async () => temp?.remove());

describe('the plugin code cache', () => {
  it('takes many concurrent writers of the same entry, in one process and across processes', async () => {
    const code = `export const made = ${JSON.stringify(new Date().toISOString())};\n${'// padding\n'.repeat(20_000)}`;
    const codeSha256 = createHash('sha256').update(code).digest('hex');
    const artifactPath = join(temp.path, 'artifact.json');
    await writeFile(artifactPath, JSON.stringify({ manifest: { name: 'cached' }, code, codeSha256 }));
    const cacheDir = join(temp.path, 'cache');
    const writer = resolve('test/operations/code-cache-writer.ts');
    const processes = 6;
    const writersEach = 25;
    const results = await Promise.allSettled(
      Array.from({ length: processes }, () =>
        execFileAsync(process.execPath, ['--import', 'tsx', writer, artifactPath, cacheDir, String(writersEach)]),
      ),
    );
    const failures = results.flatMap((result) =>
      result.status === 'rejected' ? [String((result.reason as { stderr?: string }).stderr ?? result.reason)] : [],
    );
    expect(failures).toEqual([]);
    const entry = join(cacheDir, `${codeSha256}.mjs`);
    for (const result of results) {
      if (result.status !== 'fulfilled') continue;
      expect(result.value.stdout.trim().split('\n')).toEqual(Array(writersEach).fill(entry));
    }
    expect(await readFile(entry, 'utf8')).toBe(code);
    expect(await readdir(cacheDir)).toEqual([`${codeSha256}.mjs`]);
  }, 120_000);
});
