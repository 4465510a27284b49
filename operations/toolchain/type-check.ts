import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import type { PluginBuildIssue } from './plugin-build-error.js';
import { PLUGIN_COMPILER_OPTIONS } from './scaffold-templates.js';
import { SDK_TYPES } from './sdk-location.js';

/** Options of {@link typeCheckPlugin}. */
export interface TypeCheckOptions {
  /** The plugin directory; issues name files relative to it. */
  dir: string;
  /** The folder of the plugin sources (plugin.yml `srcDir`), relative to `dir`. */
  srcDir: string;
  /** Give up after this long. @defaultValue {@link TYPE_CHECK_DEFAULTS}.timeoutMs (2 minutes) */
  timeoutMs?: number;
}

const TYPE_CHECK_DEFAULTS = { timeoutMs: 120_000 };

const require = createRequire(import.meta.url);

/** The TypeScript compiler of the engine's own dependencies (so the check does not depend on the plugin's). */
function tscPath(): string {
  return join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
}

/** Node's types, when the engine has them installed; plugins run on Node and may use its modules. */
function nodeTypeRoots(): string[] {
  try {
    return [dirname(dirname(require.resolve('@types/node/package.json')))];
  } catch {
    return [];
  }
}

/**
 * The compiler options of the check. Plugins are bundled by esbuild, so modules resolve as a bundler does; `dvx/sdk`
 * is the engine's SDK. A tsconfig.json in the plugin directory is for editors and is not read here, so every plugin is
 * checked the same way.
 */
function checkConfig(dir: string, srcDir: string): object {
  const typeRoots = nodeTypeRoots();
  const sources = resolve(dir, srcDir);
  return {
    compilerOptions: {
      ...PLUGIN_COMPILER_OPTIONS,
      allowImportingTsExtensions: true,
      resolveJsonModule: true,
      types: typeRoots.length ? ['node'] : [],
      ...(typeRoots.length ? { typeRoots } : {}),
      paths: { 'dvx/sdk': [SDK_TYPES] },
    },
    include: [join(sources, '**/*.ts'), join(sources, '**/*.mts')],
    exclude: [join(sources, '**/node_modules'), join(sources, '**/*.test.ts')],
  };
}

const FIX = 'correct the code at that line';
const DIAGNOSTIC = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/;

/** tsc's `file(line,col): error TSnnnn: message` lines (continuation lines appended) as build issues; tsc ran in `dir`. */
function parseDiagnostics(output: string, dir: string): PluginBuildIssue[] {
  const issues: PluginBuildIssue[] = [];
  for (const line of output.split('\n')) {
    if (line.includes('TS18003')) continue; // no TypeScript inputs: a plugin written in JavaScript
    const match = DIAGNOSTIC.exec(line);
    if (match) {
      const [, file = '', lineNumber, column, code = '', message = ''] = match;
      issues.push({
        file: relative(dir, resolve(dir, file)),
        pointer: '',
        line: Number(lineNumber),
        column: Number(column),
        message: `${message} (${code})`,
        fix: FIX,
      });
    } else if (line.trim()) {
      const last = issues.at(-1);
      if (last) last.message += ` ${line.trim()}`;
      else issues.push({ file: '', pointer: '', message: line.trim(), fix: FIX });
    }
  }
  return issues;
}

/** Type-checks the plugin's sources with the engine's TypeScript; returns the errors as `file:line` issues. */
export async function typeCheckPlugin(options: TypeCheckOptions): Promise<PluginBuildIssue[]> {
  const dir = resolve(options.dir);
  const work = await mkdtemp(join(tmpdir(), 'dvx-typecheck-'));
  try {
    const configFile = join(work, 'tsconfig.json');
    await writeFile(configFile, JSON.stringify(checkConfig(dir, options.srcDir), null, 2));
    const output = await new Promise<string>((resolvePromise, reject) => {
      execFile(
        process.execPath,
        [tscPath(), '-p', configFile, '--pretty', 'false'],
        { cwd: dir, timeout: options.timeoutMs ?? TYPE_CHECK_DEFAULTS.timeoutMs, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number')
            reject(new Error(`tsc did not run: ${error.message}`, { cause: error }));
          else resolvePromise(`${stdout}${stderr}`);
        },
      );
    });
    return parseDiagnostics(output, dir);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
