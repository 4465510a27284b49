import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { implementedOperations, migrationIdsOf } from '../sdk/index.js';
import type { PluginSections } from '../sdk/define-plugin.js';
import type { MigrationObjectType, OperationName } from '../plugin-artifact.js';

/** Options of {@link readPluginShape}. */
export interface ReadPluginShapeOptions {
  /** Give up (and kill the import) after this long. @defaultValue {@link READ_SHAPE_DEFAULTS}.timeoutMs (30 s) */
  timeoutMs?: number;
}

const READ_SHAPE_DEFAULTS = { timeoutMs: 30_000 };

/** What importing a bundle showed: the plugin's operations and migrations, or why it is not a plugin. */
export type PluginShape =
  | { ok: true; operations: OperationName[]; migrationIds: Record<MigrationObjectType, string[]> }
  | { ok: false; problem: 'import-failed' | 'not-a-plugin'; message: string };

// Runs in a child node process: imports the bundle and prints the names of what its default export holds.
const PROBE = `
const [path] = process.argv.slice(1);
const report = (value) => process.stdout.write('\\n@@dvx-shape@@' + JSON.stringify(value));
try {
  const module = await import(path);
  const plugin = module.default;
  if (!plugin || typeof plugin !== 'object' || plugin[Symbol.for('dvx.plugin')] !== true) {
    report({ notPlugin: plugin === undefined ? 'there is no default export' : 'the default export is ' + (plugin === null ? 'null' : typeof plugin === 'object' ? 'an object not made by definePlugin' : 'a ' + typeof plugin) });
  } else {
    const names = (group) => Object.entries(plugin[group] ?? {}).filter(([, value]) => typeof value === 'function').map(([name]) => name);
    const upgrade = Object.fromEntries(Object.entries(plugin.upgrade ?? {}).map(([type, migrations]) => [type, Object.keys(migrations ?? {})]));
    report({ groups: { discovery: names('discovery'), linked: names('linked'), virtual: names('virtual') }, upgrade });
  }
} catch (error) {
  report({ importError: String(error?.message ?? error) });
}
process.exit(0);
`;

interface ProbeAnswer {
  notPlugin?: string;
  importError?: string;
  groups?: Record<'discovery' | 'linked' | 'virtual', string[]>;
  upgrade?: Record<string, string[]>;
}

const stub = () => undefined;

/** Enough to run node; nothing of the caller's (engine tokens, Redis URLs) reaches the plugin's top-level code. */
function probeEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'])
    if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}

/**
 * Imports a plugin bundle in a separate Node process (its top-level code never runs in the engine or the CLI) and reads
 * what its default export implements: the operations and migration ids, as {@link implementedOperations} and
 * {@link migrationIdsOf} see them.
 */
export async function readPluginShape(code: string, options: ReadPluginShapeOptions = {}): Promise<PluginShape> {
  const work = await mkdtemp(join(tmpdir(), 'dvx-plugin-probe-'));
  try {
    const bundle = join(work, 'plugin.mjs');
    await writeFile(bundle, code);
    const { stdout, stderr, failure } = await new Promise<{ stdout: string; stderr: string; failure?: Error }>(
      (resolve) => {
        execFile(
          process.execPath,
          ['--input-type=module', '-e', PROBE, bundle],
          {
            cwd: work,
            env: probeEnvironment(),
            timeout: options.timeoutMs ?? READ_SHAPE_DEFAULTS.timeoutMs,
            maxBuffer: 16 * 1024 * 1024,
          },
          (error, out, err) => resolve({ stdout: out, stderr: err, ...(error ? { failure: error } : {}) }),
        );
      },
    );
    const marker = stdout.lastIndexOf('@@dvx-shape@@');
    if (marker < 0) {
      const why =
        failure?.message.includes('ETIMEDOUT') || (failure as { killed?: boolean } | undefined)?.killed
          ? 'it did not finish loading in time'
          : `the process ended before answering: ${stderr.trim().split('\n').slice(-3).join(' ') || failure?.message}`;
      return { ok: false, problem: 'import-failed', message: why };
    }
    const answer = JSON.parse(stdout.slice(marker + '@@dvx-shape@@'.length)) as ProbeAnswer;
    if (answer.importError !== undefined) return { ok: false, problem: 'import-failed', message: answer.importError };
    if (answer.notPlugin !== undefined || !answer.groups)
      return { ok: false, problem: 'not-a-plugin', message: answer.notPlugin ?? 'its default export is not a plugin' };
    // A stand-in with the same operation and migration names, read by the SDK's own functions.
    const stand = (names: string[]) => Object.fromEntries(names.map((name) => [name, stub]));
    const spec: PluginSections = {
      discovery: stand(answer.groups.discovery),
      linked: stand(answer.groups.linked),
      virtual: stand(answer.groups.virtual),
      upgrade: Object.fromEntries(Object.entries(answer.upgrade ?? {}).map(([type, ids]) => [type, stand(ids)])),
    };
    return { ok: true, operations: implementedOperations(spec), migrationIds: migrationIdsOf(spec) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
