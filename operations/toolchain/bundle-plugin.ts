import { relative, resolve } from 'node:path';
import { build, type Message } from 'esbuild';
import type { PluginBuildIssue } from './plugin-build-error.js';
import { SDK_ENTRY } from './sdk-location.js';

/** Options of {@link bundlePlugin}. */
export interface BundlePluginOptions {
  /** The plugin directory; issues name files relative to it. */
  dir: string;
  /** The entry module (plugin.yml `entryPoint`), relative to `dir`. */
  entryPoint: string;
}

/** The bundle, or why there is none. */
export type BundleResult = { code: string; issues: [] } | { code?: undefined; issues: PluginBuildIssue[] };

function issueOf(dir: string, message: Message): PluginBuildIssue {
  const location = message.location;
  return {
    file: location ? relative(dir, resolve(dir, location.file)) : '',
    pointer: '',
    ...(location ? { line: location.line, column: location.column + 1 } : {}),
    message: message.text,
    fix: message.notes.map((note) => note.text).join(' ') || 'correct the import or the syntax at that place',
  };
}

/**
 * One self-contained ESM module of the plugin, for Node: its code, what it imports from its own node_modules, and the
 * engine's SDK (`dvx/sdk`), so the artifact runs without anything installed next to it.
 */
export async function bundlePlugin(options: BundlePluginOptions): Promise<BundleResult> {
  const dir = resolve(options.dir);
  try {
    const result = await build({
      entryPoints: [resolve(dir, options.entryPoint)],
      absWorkingDir: dir,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      legalComments: 'none',
      alias: { 'dvx/sdk': SDK_ENTRY },
    });
    return { code: result.outputFiles.map((file) => file.text).join(''), issues: [] };
  } catch (error) {
    const messages = (error as { errors?: Message[] }).errors;
    if (!Array.isArray(messages) || messages.length === 0) throw error;
    return { issues: messages.map((message) => issueOf(dir, message)) };
  }
}
