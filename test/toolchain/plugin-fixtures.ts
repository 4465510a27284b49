// Plugin directories for toolchain tests: a scaffold made once by initPlugin, copied and changed per test.
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildPlugin, initPlugin, PluginBuildError, type PluginType } from '../../operations/toolchain/index.js';
import { must } from '../harness/must.js';

/** Makes a fresh scaffold of `type` in `dir`. */
export async function scaffold(dir: string, type: PluginType, name?: string): Promise<string> {
  await initPlugin({ dir, type, ...(name ? { name } : {}) });
  return dir;
}

/** Copies a plugin directory. */
export async function copyPlugin(from: string, to: string): Promise<string> {
  await cp(from, to, { recursive: true });
  return to;
}

/** Rewrites plugin.yml through `change` (given the parsed mapping; may mutate it or return a new value). */
export async function editConfig(dir: string, change: (config: Record<string, unknown>) => unknown): Promise<void> {
  const config = parse(await readFile(join(dir, 'plugin.yml'), 'utf8')) as Record<string, unknown>;
  const changed = change(config) ?? config;
  await writeFile(join(dir, 'plugin.yml'), stringify(changed));
}

/** Rewrites schema.json through `change`. */
export async function editSchema(
  dir: string,
  change: (schema: Record<string, Record<string, unknown>>) => unknown,
): Promise<void> {
  const schema = JSON.parse(await readFile(join(dir, 'schema.json'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  const changed = change(schema) ?? schema;
  await writeFile(join(dir, 'schema.json'), JSON.stringify(changed, null, 2));
}

/** Rewrites src/index.ts (or another source file) through `change`. */
export async function editSource(dir: string, change: (text: string) => string, file = 'src/index.ts'): Promise<void> {
  await writeFile(join(dir, file), change(await readFile(join(dir, file), 'utf8')));
}

/** A property schema of a definition, for edits. */
export function propertiesOf(definition: Record<string, unknown> | undefined): Record<string, Record<string, unknown>> {
  return must(definition, 'a definition').properties as Record<string, Record<string, unknown>>;
}

/** Builds `dir` (artifact to DIR/out.json), expecting the build to fail with a {@link PluginBuildError}. */
export async function buildFailure(dir: string): Promise<PluginBuildError> {
  const error = await buildPlugin({ dir, out: join(dir, 'out.json') }).then(
    () => {
      throw new Error('expected the build to fail');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PluginBuildError);
  return error as PluginBuildError;
}
