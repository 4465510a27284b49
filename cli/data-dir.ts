import { resolve } from 'node:path';

/** Default engine data directory, relative to the working directory. */
export const DEFAULT_DATA_DIR = '.dvx';

/** `--data-dir`, else `DVX_DATA_DIR`, else `./.dvx`; always absolute. */
export function resolveDataDir(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(option ?? env.DVX_DATA_DIR ?? DEFAULT_DATA_DIR);
}
