import { execFile } from 'node:child_process';
import { chown } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringMatching } from '../harness/matchers.js';
import { makeTempDir } from '../harness/temp-dir.js';

const execFileAsync = promisify(execFile);
const NOBODY = 65534;
const probe = fileURLToPath(new URL('./non-root-probe.ts', import.meta.url));

let temp: { path: string; remove(): Promise<void> };
let bundle: string;
beforeAll(async () => {
  temp = await makeTempDir('non-root');
  await chown(temp.path, NOBODY, NOBODY);
  // The probe runs as nobody, who may not be able to read this checkout (a clone under a 0700 temp dir), so it runs
  // as one self-contained file in a directory nobody owns.
  bundle = join(temp.path, 'probe.mjs');
  await build({
    entryPoints: [probe],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: {
      js: "import { createRequire as dvxCreateRequire } from 'node:module'; const require = dvxCreateRequire(import.meta.url);",
    },
    logLevel: 'silent',
  });
  await chown(bundle, NOBODY, NOBODY);
});
afterAll(async () => {
  await temp?.remove();
});

describe('storage without root', () => {
  it('refuses a btrfs pool with what to do instead, and falls back to a reflink backend whose snapshots the owner cannot write', async () => {
    const { stdout } = await execFileAsync(
      'setpriv',
      [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, bundle, temp.path],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: temp.path },
      },
    );
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(report.init).toMatchObject({
      code: 'STORAGE_UNSUPPORTED',
      message: stringMatching(/needs root/),
      action: stringMatching(/--backend reflink/),
    });
    expect(report.kind).toBe('reflink');
    expect(report.root).toBe(join(temp.path, 'auto', 'storage', 'datasets'));
    expect(report.snapshotWrite).toBe('EACCES');
    expect(report.snapshotNewFile).toBe('EACCES');
    expect(report.cloneWrite).toBe('written');
    expect(report.left).toEqual({ snapshot: false, clone: false });
  });
});
