import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PluginError } from '../../errors/index.js';
import type { PluginArtifact } from '../plugin-artifact.js';

export const DEFAULT_CODE_CACHE_DIR = join(tmpdir(), 'dvx-plugin-cache');

/** Files checked (or written) by this process: their contents are known to hash to their name. */
const verified = new Set<string>();

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

/**
 * The artifact's code as a module file named by its hash, written once (atomically) and reused. The artifact's hash is
 * checked against its code, and a cached file against its name, once per process.
 */
export async function cachedCodePath(artifact: PluginArtifact, cacheDir = DEFAULT_CODE_CACHE_DIR): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(artifact.codeSha256)) {
    throw new PluginError({
      code: 'PLUGIN_CONFIG_INVALID',
      message: `Plugin ${artifact.manifest.name}'s artifact has no valid codeSha256.`,
      action: 'Rebuild the plugin with `dvx plugin build` and upload it again.',
    });
  }
  const path = join(cacheDir, `${artifact.codeSha256}.mjs`);
  if (verified.has(path)) return path;
  if (sha256(artifact.code) !== artifact.codeSha256) {
    throw new PluginError({
      code: 'PLUGIN_CONFIG_INVALID',
      message: `Plugin ${artifact.manifest.name}'s code does not match its codeSha256: the artifact is damaged.`,
      action: 'Rebuild the plugin with `dvx plugin build` and upload it again.',
    });
  }
  const existing = await readFile(path).catch(() => null);
  if (!existing || sha256(existing) !== artifact.codeSha256) {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temporary, artifact.code, { mode: 0o600 });
    await rename(temporary, path);
  }
  verified.add(path);
  return path;
}
