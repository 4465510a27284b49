import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('./plugin-runner.js', import.meta.url));
const source = fileURLToPath(new URL('./plugin-runner.ts', import.meta.url));
let fromSource: Promise<string> | undefined;

/**
 * The script each plugin process runs. From dist/ it is the compiled runner. Run from source (tsx, vitest), the runner
 * is transpiled once per engine process into a cached .mjs instead of forking every plugin process with `--import
 * tsx`, which costs a few hundred milliseconds of CPU per operation and would make source runs and benchmarks measure
 * the TypeScript loader rather than dvx.
 */
export function runnerScript(): Promise<string> {
  if (!import.meta.url.endsWith('.ts')) return Promise.resolve(compiled);
  fromSource ??= (async () => {
    const { transform } = await import('esbuild');
    const { code } = await transform(await readFile(source, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20' });
    const path = join(
      tmpdir(),
      `dvx-plugin-runner-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`,
    );
    const partial = `${path}.${process.pid}.tmp`;
    await writeFile(partial, code);
    await rename(partial, path);
    return path;
  })();
  return fromSource;
}
