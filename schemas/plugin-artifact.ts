import type { PluginType } from './plugin-type.js';

/**
 * The one file `dvx plugin build` writes and `dvx plugin upload` sends: everything the engine needs to run a
 * plugin. Shared by the toolchain (writer), the invoker (reader) and the model (which stores it).
 */

/** Every operation a plugin may implement, in the SDK's camelCase names. */
export const OPERATION_NAMES = [
  'discovery.repository',
  'discovery.sourceConfig',
  'linked.preSnapshot',
  'linked.postSnapshot',
  'linked.startStaging',
  'linked.stopStaging',
  'linked.status',
  'linked.worker',
  'linked.mountSpecification',
  'linked.sourceSize',
  'virtual.configure',
  'virtual.initialize',
  'virtual.unconfigure',
  'virtual.reconfigure',
  'virtual.cleanup',
  'virtual.start',
  'virtual.stop',
  'virtual.preSnapshot',
  'virtual.postSnapshot',
  'virtual.mountSpecification',
  'virtual.status',
  'virtual.sourceSize',
] as const;

export type OperationName = (typeof OPERATION_NAMES)[number];

/** Object types that upgrade migrations apply to. */
export const MIGRATION_OBJECT_TYPES = [
  'repository',
  'sourceConfig',
  'linkedSource',
  'virtualSource',
  'snapshot',
] as const;
export type MigrationObjectType = (typeof MIGRATION_OBJECT_TYPES)[number];

/** The six schema definitions of schema.json. */
export const SCHEMA_DEFINITIONS = [
  'repositoryDefinition',
  'sourceConfigDefinition',
  'virtualSourceDefinition',
  'linkedSourceDefinition',
  'snapshotDefinition',
  'snapshotParametersDefinition',
] as const;
export type SchemaDefinitionName = (typeof SCHEMA_DEFINITIONS)[number];

/** plugin.yml after validation (vSDK plugin config fields, camelCase). */
export interface PluginManifest {
  /** Stable plugin id (a UUID or a reverse-DNS name). */
  id: string;
  name: string;
  externalVersion: string;
  buildNumber: string;
  pluginType: PluginType;
  hostTypes: Array<'UNIX'>;
  /** TYPESCRIPT: `code` is an ES module; PYTHON311 and PYTHON38 (vSDK plugins): `code` is a {@link PythonCode} as JSON. */
  language: 'TYPESCRIPT' | 'PYTHON311' | 'PYTHON38';
  defaultLocale: string;
  rootSquashEnabled: boolean;
  /** Operations the bundled code implements. */
  operations: OperationName[];
  /** Migration ids per object type, in ascending order. */
  migrationIds: Record<MigrationObjectType, string[]>;
}

/**
 * The code of a Python plugin (the artifact's `code`, as JSON): its srcDir as it is, run from a directory the runner
 * unpacks it into (the working directory of its operations, as the vSDK's srcDir).
 */
export interface PythonCode {
  format: 'dvx-python/1';
  /** `module:attribute` of the plugin's `Plugin()` object (plugin_config.yml's entryPoint). */
  entryPoint: string;
  pluginType: PluginType;
  /** schema.json's definitions, from which `generated.definitions` is made. */
  schemas: Record<string, Record<string, unknown>>;
  /** Every file of srcDir: path relative to it (with `/`) to base64 contents. */
  files: Record<string, string>;
}

/** The built artifact. */
export interface PluginArtifact {
  formatVersion: 1;
  manifest: PluginManifest;
  /** Each definition's JSON Schema (draft-07), as written in schema.json. */
  schemas: Record<SchemaDefinitionName, Record<string, unknown>>;
  /**
   * TypeScript: the plugin's code as one ESM bundle whose default export is the value of `definePlugin(...)`. Python:
   * a {@link PythonCode} as JSON.
   */
  code: string;
  /** sha256 hex of `code`. */
  codeSha256: string;
  /** ISO time of the build. */
  builtAt: string;
}
