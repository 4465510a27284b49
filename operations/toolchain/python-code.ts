import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { PluginType } from '../../schemas/plugin-type.js';
import type { PythonCode } from '../plugin-artifact.js';

/** What {@link packPythonCode} packs. */
export interface PythonCodeInput {
  /** The plugin's srcDir: every file in it is carried as it is (but `__pycache__` folders). */
  srcDir: string;
  /** `module:attribute` of the plugin's `Plugin()`. */
  entryPoint: string;
  pluginType: PluginType;
  /** schema.json's definitions. */
  schemas: Record<string, Record<string, unknown>>;
}

async function filesOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '__pycache__') files.push(...(await filesOf(path)));
    } else if (entry.isFile() && !entry.name.endsWith('.pyc')) files.push(path);
  }
  return files;
}

/** A Python plugin's code as the artifact carries it (JSON of a {@link PythonCode}; the same input, the same text). */
export async function packPythonCode(input: PythonCodeInput): Promise<string> {
  const files: Record<string, string> = {};
  for (const path of await filesOf(input.srcDir))
    files[relative(input.srcDir, path).split(sep).join('/')] = (await readFile(path)).toString('base64');
  const code: PythonCode = {
    format: 'dvx-python/1',
    entryPoint: input.entryPoint,
    pluginType: input.pluginType,
    schemas: input.schemas,
    files,
  };
  return JSON.stringify(code);
}
