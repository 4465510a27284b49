import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger, type Logger } from '../../log/logger.js';
import type { MigrationObjectType, OperationName, PluginArtifact, PluginManifest } from '../plugin-artifact.js';
import { PluginBuildError, type PluginBuildIssue } from './plugin-build-error.js';
import { packPythonCode } from './python-code.js';
import { REQUIRED_OPERATIONS, UNUSED_OPERATIONS } from './required-operations.js';
import { PYTHON_PLUGIN_CONFIG_FILE, readPythonPluginConfig } from './validate-python-plugin-config.js';
import { readPluginSchema } from './validate-plugin-schema.js';

/** The script that imports a Python plugin under dvx's dlpx.virtualization and says what it implements. */
const INSPECT_SCRIPT = fileURLToPath(new URL('../python/dvx_inspect.py', import.meta.url));
/** How long importing a plugin may take at build. */
const INSPECT_TIMEOUT_MS = 60_000;

/** Options of {@link buildPythonPlugin}. */
export interface BuildPythonPluginOptions {
  /** The plugin directory (holding plugin_config.yml). */
  dir: string;
  /** Where to write the artifact. @defaultValue `DIR/build/artifact.json` */
  out?: string;
  /** @defaultValue silentLogger */
  logger?: Logger;
}

interface Inspection {
  operations?: OperationName[];
  migrationIds?: Record<MigrationObjectType, string[]>;
  issues?: { operation: string; message: string; file: string | null; line: number | null }[];
  importError?: { message: string; file: string | null; line: number | null };
  /** vSDK operations implemented that dvx never calls (V2P). */
  unrun?: string[];
}

/** Imports the plugin's entry point in `python3 -I` (cwd srcDir, as at run time) and reads what it implements. */
function inspectPlugin(srcDir: string, entryPoint: string, pluginType: string, schemas: unknown): Promise<Inspection> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('python3', ['-I', '-B', INSPECT_SCRIPT, srcDir, entryPoint, pluginType], {
      cwd: srcDir,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: INSPECT_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-8_000)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      try {
        resolvePromise(JSON.parse(stdout) as Inspection);
      } catch {
        resolvePromise({
          importError: {
            message: signal
              ? `importing it did not finish within ${INSPECT_TIMEOUT_MS / 1000} s`
              : `python3 exited with code ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}`,
            file: null,
            line: null,
          },
        });
      }
    });
    child.stdin.end(JSON.stringify(schemas));
  });
}

/**
 * Builds a Python (vSDK) plugin directory as its authors have it (plugin_config.yml, schema.json, srcDir) into one
 * artifact: validates the config (PYTHON27 refused with why) and the schemas, imports the entry point under dvx's
 * dlpx.virtualization to find the operations it implements, their argument names and its migrations (an import error
 * named with its file and line), and packs srcDir as it is.
 */
export async function buildPythonPlugin(
  options: BuildPythonPluginOptions,
): Promise<{ artifact: PluginArtifact; artifactPath: string; warnings: PluginBuildIssue[] }> {
  const dir = resolve(options.dir);
  const logger = (options.logger ?? silentLogger).child({ plugin: dir });
  const configReading = await readPythonPluginConfig(dir);
  const schemaReading = await readPluginSchema(dir, configReading.config?.schemaFile ?? 'schema.json', {
    python: true,
  });
  const { config } = configReading;
  const { schemas } = schemaReading;
  if (!config || !schemas)
    throw new PluginBuildError(dir, 'validation', [...configReading.issues, ...schemaReading.issues]);

  const srcDir = resolve(dir, config.srcDir);
  const inspection = await inspectPlugin(srcDir, config.entryPoint, config.pluginType, schemas);
  const inSrc = (file: string | null) => (file === null ? PYTHON_PLUGIN_CONFIG_FILE : join(config.srcDir, file));
  if (inspection.importError) {
    const { message, file, line } = inspection.importError;
    throw new PluginBuildError(dir, 'importing the plugin', [
      {
        file: inSrc(file),
        pointer: file === null ? '/entryPoint' : '',
        ...(line !== null ? { line } : {}),
        message: `importing ${config.entryPoint} failed: ${message}`,
        fix: 'correct the plugin so that its entry point imports with Python 3.11 and the standard library (dlpx.virtualization and generated.definitions are provided)',
      },
    ]);
  }
  if (inspection.issues?.length)
    throw new PluginBuildError(
      dir,
      'checking the operations',
      inspection.issues.map((issue) => ({
        file: inSrc(issue.file),
        pointer: '',
        ...(issue.line !== null ? { line: issue.line } : {}),
        message: issue.message,
        fix: 'name the function arguments as the vSDK passes them (they are passed by keyword)',
      })),
    );
  const operations = inspection.operations ?? [];
  const warnings: PluginBuildIssue[] = [];
  for (const operation of REQUIRED_OPERATIONS[config.pluginType])
    if (!operations.includes(operation))
      warnings.push({
        file: config.entryPoint,
        pointer: '',
        message: `does not implement ${operation}, which a ${config.pluginType} plugin needs: the engine operations that call it will fail`,
        fix: `implement it with the plugin's decorator for ${operation}`,
      });
  for (const operation of inspection.unrun ?? [])
    warnings.push({
      file: config.entryPoint,
      pointer: '',
      message: `implements ${operation}, which dvx never runs (it has no export to a physical host, V2P)`,
      fix: 'nothing to do to run the plugin on dvx; the operation is kept but not called',
    });
  for (const operation of UNUSED_OPERATIONS[config.pluginType])
    if (operations.includes(operation))
      warnings.push({
        file: config.entryPoint,
        pointer: '',
        message: `implements ${operation}, which the engine never calls for a ${config.pluginType} plugin`,
        fix: `remove it, or set pluginType in ${PYTHON_PLUGIN_CONFIG_FILE}`,
      });

  const code = await packPythonCode({
    srcDir,
    entryPoint: config.entryPoint,
    pluginType: config.pluginType,
    schemas,
  });
  const manifest: PluginManifest = {
    id: config.id,
    name: config.name,
    externalVersion: config.externalVersion ?? config.buildNumber,
    buildNumber: config.buildNumber,
    pluginType: config.pluginType,
    hostTypes: config.hostTypes,
    language: config.language,
    defaultLocale: config.defaultLocale ?? 'en-us',
    rootSquashEnabled: config.rootSquashEnabled ?? true,
    operations,
    migrationIds: inspection.migrationIds ?? {
      repository: [],
      sourceConfig: [],
      linkedSource: [],
      virtualSource: [],
      snapshot: [],
    },
  };
  const artifact: PluginArtifact = {
    formatVersion: 1,
    manifest,
    schemas,
    code,
    codeSha256: createHash('sha256').update(code).digest('hex'),
    builtAt: new Date().toISOString(),
  };
  const artifactPath = options.out === undefined ? join(dir, 'build', 'artifact.json') : resolve(options.out);
  await mkdir(dirname(artifactPath), { recursive: true });
  await writeFile(artifactPath, `${JSON.stringify(artifact, null, 2)}\n`);
  logger.info({ artifactPath, operations: operations.length, warnings: warnings.length }, 'built Python plugin');
  return { artifact, artifactPath, warnings };
}
