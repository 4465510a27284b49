import { randomUUID } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { ValidationError } from '../../errors/index.js';
import { GENERATED_TYPES_FILE, writeDefinitionTypes } from './generate-types.js';
import {
  GITIGNORE_TEXT,
  parsePluginType,
  pluginConfigText,
  pluginSchemas,
  pluginSourceText,
  tsconfigText,
  type PluginType,
} from './scaffold-templates.js';
import { SDK_TYPES } from './sdk-location.js';

/** Options of {@link initPlugin}. */
export interface InitPluginOptions {
  /** The directory to create the plugin in: missing or empty. */
  dir: string;
  /** STAGED (ingestion through a staging mount) or DIRECT (the engine copies with runSync); any case. */
  type: PluginType | Lowercase<PluginType>;
  /** The plugin's display name. @defaultValue the directory's name */
  name?: string;
}

/** What {@link initPlugin} wrote. */
export interface InitPluginResult {
  dir: string;
  /** The new plugin's id (plugin.yml `id`, a fresh UUID). */
  id: string;
  name: string;
  type: PluginType;
  /** The files written, relative to `dir`. */
  files: string[];
}

async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR')
      throw new ValidationError(`${dir} is a file, not a directory.`, [{ pointer: '/dir', message: 'is a file' }], {
        action: 'Give a new or empty directory to create the plugin in.',
      });
    throw error;
  }
}

/**
 * Creates a new plugin in an empty (or new) directory: plugin.yml with a fresh id, schema.json with the six
 * definitions, src/index.ts implementing every operation the plugin type requires (a working plugin that copies a
 * directory tree), the generated definition types, a tsconfig.json for editors and a .gitignore. `dvx plugin build`
 * builds it as it is.
 */
export async function initPlugin(options: InitPluginOptions): Promise<InitPluginResult> {
  const dir = resolve(options.dir);
  const type = parsePluginType(String(options.type));
  if (!type)
    throw new ValidationError(
      `Unknown plugin type ${JSON.stringify(options.type)}.`,
      [{ pointer: '/type', message: 'must be staged or direct' }],
      {
        action:
          'Use --type staged (ingestion through a staging mount) or --type direct (the engine copies with runSync).',
      },
    );
  const name = options.name ?? basename(dir);
  if (!name.trim())
    throw new ValidationError('The plugin name is empty.', [{ pointer: '/name', message: 'must not be empty' }], {
      action: 'Give a name with --name.',
    });
  const existing = await entriesOf(dir);
  if (existing && existing.length) {
    throw new ValidationError(
      `${dir} is not empty (it holds ${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', ...' : ''}); dvx plugin init writes only into a new or empty directory.`,
      [{ pointer: '/dir', message: 'is not empty' }],
      {
        action: 'Choose a new directory name, or empty that directory first.',
      },
    );
  }
  const id = randomUUID();
  const schemas = pluginSchemas(type);
  const files: Record<string, string> = {
    'plugin.yml': pluginConfigText({ id, name, type }),
    'schema.json': `${JSON.stringify(schemas, null, 2)}\n`,
    'src/index.ts': pluginSourceText(type),
    'tsconfig.json': tsconfigText(relative(dir, SDK_TYPES)),
    '.gitignore': GITIGNORE_TEXT,
  };
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  await writeDefinitionTypes(schemas, join(dir, 'src', GENERATED_TYPES_FILE));
  return { dir, id, name, type, files: [...Object.keys(files), join('src', GENERATED_TYPES_FILE)] };
}
