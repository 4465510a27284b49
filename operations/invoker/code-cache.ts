import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PluginArtifact } from '../plugin-artifact.js';

export const DEFAULT_CODE_CACHE_DIR = join(tmpdir(), 'dvx-plugin-cache');

/** The artifact's code as a module file named by its hash, written once (atomically) and reused. */
export async function cachedCodePath(artifact: PluginArtifact, cacheDir = DEFAULT_CODE_CACHE_DIR): Promise<string> {
  const path = join(cacheDir, `${artifact.codeSha256}.mjs`);
  try {
    await stat(path);
    return path;
  } catch {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temporary, artifact.code, { mode: 0o600 });
    await rename(temporary, path);
    return path;
  }
}
