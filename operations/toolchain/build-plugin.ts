import { createHash } from 'node:crypto';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { silentLogger, type Logger } from '../../log/logger.js';
import type { PluginArtifact, PluginManifest } from '../plugin-artifact.js';
import { bundlePlugin } from './bundle-plugin.js';
import { buildPythonPlugin } from './build-python-plugin.js';
import { PYTHON_PLUGIN_CONFIG_FILE } from './validate-python-plugin-config.js';
import { GENERATED_TYPES_FILE, writeDefinitionTypes } from './generate-types.js';
import { PluginBuildError, type PluginBuildIssue } from './plugin-build-error.js';
import { readPluginShape } from './read-plugin-shape.js';
import { REQUIRED_OPERATIONS, UNUSED_OPERATIONS } from './required-operations.js';
import { typeCheckPlugin } from './type-check.js';
import { PLUGIN_CONFIG_FILE, readPluginConfig } from './validate-plugin-config.js';
import { readPluginSchema } from './validate-plugin-schema.js';

/** Options of {@link buildPlugin}. */
export interface BuildPluginOptions {
  /** The plugin directory (holding plugin.yml). */
  dir: string;
  /** Where to write the artifact (relative to the current directory). @defaultValue `DIR/build/artifact.json` */
  out?: string;
  /**
   * Write the definition types to `srcDir/generated/definitions.ts` (for a plugin built where its sources should not
   * change, such as a plugin shipped with dvx, pass false: its sources must then not import them, or ship them).
   * @defaultValue true
   */
  writeTypes?: boolean;
  /** Skip the type check (the bundle is still built and imported). @defaultValue false */
  skipTypeCheck?: boolean;
  /** @defaultValue silentLogger */
  logger?: Logger;
}

/** A successful build. */
export interface BuildPluginResult {
  artifact: PluginArtifact;
  /** Absolute path of the artifact written. */
  artifactPath: string;
  /** Problems that do not stop the build (a required operation missing, as in the vSDK). */
  warnings: PluginBuildIssue[];
}

/** How a bundle that is not a loadable plugin is reported, by {@link readPluginShape}'s problem. */
const LOAD_FAILURES = {
  'not-a-plugin': {
    what: 'is not a plugin',
    fix: "export the plugin as the module's default: export default definePlugin({...}) (import definePlugin from 'dvx/sdk')",
  },
  'import-failed': {
    what: 'failed to load',
    fix: 'correct the plugin so that its module loads (definePlugin checks operation names and migration ids when it runs)',
  },
};

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** The default artifact path, relative to the plugin directory. */
const DEFAULT_ARTIFACT_FILE = join('build', 'artifact.json');

/**
 * Builds a plugin directory into one artifact (what `dvx plugin upload` sends). A Python (vSDK) plugin directory
 * (plugin_config.yml) is built by {@link buildPythonPlugin}. A TypeScript one: validates plugin.yml and the schema
 * file, writes the definition types to `srcDir/generated/definitions.ts`, type-checks the sources, bundles them with
 * the SDK into one ESM module, imports the bundle in a child process to read what it implements, and writes the
 * artifact. Refuses with a {@link PluginBuildError} listing every problem of the first stage that has any
 * (configuration and schema, then types, then bundling, then the bundle's default export).
 */
export async function buildPlugin(options: BuildPluginOptions): Promise<BuildPluginResult> {
  const dir = resolve(options.dir);
  // A Python (vSDK) plugin directory: plugin_config.yml and no plugin.yml.
  if (!(await exists(join(dir, PLUGIN_CONFIG_FILE))) && (await exists(join(dir, PYTHON_PLUGIN_CONFIG_FILE))))
    return buildPythonPlugin({ dir, out: options.out, logger: options.logger });
  const logger = (options.logger ?? silentLogger).child({ plugin: dir });

  const configReading = await readPluginConfig(dir);
  const schemaFile = configReading.config?.schemaFile ?? 'schema.json';
  const schemaReading = await readPluginSchema(dir, schemaFile);
  const { config } = configReading;
  const { schemas } = schemaReading;
  if (!config || !schemas)
    throw new PluginBuildError(dir, 'validation', [...configReading.issues, ...schemaReading.issues]);

  const typesFile = join(dir, config.srcDir, GENERATED_TYPES_FILE);
  try {
    if (options.writeTypes !== false && (await writeDefinitionTypes(schemas, typesFile)))
      logger.info({ file: typesFile }, 'wrote definition types');
  } catch (error) {
    // A read-only plugin directory (a plugin shipped inside an installed package) still builds if it does not import
    // the generated types, or ships them up to date.
    if (!['EACCES', 'EPERM', 'EROFS'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    logger.warn({ file: typesFile, error: (error as Error).message }, 'cannot write the definition types');
  }

  if (!options.skipTypeCheck) {
    const typeIssues = await typeCheckPlugin({ dir, srcDir: config.srcDir });
    if (typeIssues.length) throw new PluginBuildError(dir, 'the type check', typeIssues);
  }

  const bundle = await bundlePlugin({ dir, entryPoint: config.entryPoint });
  if (bundle.code === undefined) throw new PluginBuildError(dir, 'bundling', bundle.issues);
  const code = bundle.code;

  const shape = await readPluginShape(code);
  if (!shape.ok) {
    const { what, fix } = LOAD_FAILURES[shape.problem];
    throw new PluginBuildError(dir, 'loading the bundle', [
      { file: config.entryPoint, pointer: '', message: `${what}: ${shape.message}`, fix },
    ]);
  }

  const warnings: PluginBuildIssue[] = [];
  for (const operation of REQUIRED_OPERATIONS[config.pluginType]) {
    if (!shape.operations.includes(operation)) {
      warnings.push({
        file: config.entryPoint,
        pointer: '',
        message: `does not implement ${operation}, which a ${config.pluginType} plugin needs: the engine operations that call it will fail`,
        fix: `implement ${operation} in definePlugin({...})`,
      });
    }
  }
  for (const operation of UNUSED_OPERATIONS[config.pluginType]) {
    if (shape.operations.includes(operation))
      warnings.push({
        file: config.entryPoint,
        pointer: '',
        message: `implements ${operation}, which the engine never calls for a ${config.pluginType} plugin`,
        fix: `remove it, or set pluginType in ${PLUGIN_CONFIG_FILE}`,
      });
  }

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
    operations: shape.operations,
    migrationIds: shape.migrationIds,
  };
  const artifact: PluginArtifact = {
    formatVersion: 1,
    manifest,
    schemas,
    code,
    codeSha256: createHash('sha256').update(code).digest('hex'),
    builtAt: new Date().toISOString(),
  };
  const artifactPath = options.out === undefined ? join(dir, DEFAULT_ARTIFACT_FILE) : resolve(options.out);
  await mkdir(dirname(artifactPath), { recursive: true });
  await writeFile(artifactPath, `${JSON.stringify(artifact, null, 2)}\n`);
  logger.info({ artifactPath, operations: manifest.operations.length, warnings: warnings.length }, 'built plugin');
  return { artifact, artifactPath, warnings };
}
