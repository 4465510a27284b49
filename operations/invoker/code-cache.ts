import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DvxError, PluginError } from '../../errors/index.js';
import type { PluginArtifact } from '../plugin-artifact.js';

/** For library callers only: the engine caches plugin code in its data dir (`<dataDir>/plugin-cache`). */
export const DEFAULT_CODE_CACHE_DIR = join(tmpdir(), 'dvx-plugin-cache');

/** Files checked (or written) by this process: their contents are known to hash to their name. */
const verified = new Set<string>();

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

const holdsCode = async (path: string, codeSha256: string) =>
  readFile(path).then(
    (existing) => sha256(existing) === codeSha256,
    () => false,
  );

/**
 * The artifact's code as a file named by its hash (a module, or a Python plugin's code as JSON), written once and reused. The artifact's hash is checked
 * against its code, and a cached file against its name, once per process.
 *
 * Any number of writers (calls in this process, other engines sharing the directory) may write the same entry at once:
 * each writes its own uniquely named temporary file and renames it over the entry, so a reader sees a whole file or
 * none, and a writer whose rename loses to another's is content with the winner's file.
 */
export async function cachedCodePath(artifact: PluginArtifact, cacheDir = DEFAULT_CODE_CACHE_DIR): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(artifact.codeSha256)) {
    throw new PluginError({
      code: 'PLUGIN_CONFIG_INVALID',
      message: `Plugin ${artifact.manifest.name}'s artifact has no valid codeSha256.`,
      action: 'Rebuild the plugin with `dvx plugin build` and upload it again.',
    });
  }
  const language = artifact.manifest.language;
  const ending = language === 'PYTHON311' || language === 'PYTHON38' ? '.json' : '.mjs';
  const path = join(cacheDir, `${artifact.codeSha256}${ending}`);
  if (verified.has(path)) return path;
  if (sha256(artifact.code) !== artifact.codeSha256) {
    throw new PluginError({
      code: 'PLUGIN_CONFIG_INVALID',
      message: `Plugin ${artifact.manifest.name}'s code does not match its codeSha256: the artifact is damaged.`,
      action: 'Rebuild the plugin with `dvx plugin build` and upload it again.',
    });
  }
  if (!(await holdsCode(path, artifact.codeSha256))) {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const temporary = `${path}.${randomUUID()}.tmp`;
    try {
      await writeFile(temporary, artifact.code, { mode: 0o600, flag: 'wx' });
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      if (!(await holdsCode(path, artifact.codeSha256))) {
        throw new DvxError({
          code: 'INTERNAL',
          message: `Cannot cache plugin ${artifact.manifest.name}'s code in ${cacheDir}: ${(error as Error).message}.`,
          action: `Check that ${cacheDir} is writable by the engine and its file system has room, then retry.`,
          retryable: true,
          cause: error,
        });
      }
    }
  }
  verified.add(path);
  return path;
}
