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
  language: 'TYPESCRIPT';
  defaultLocale: string;
  rootSquashEnabled: boolean;
  /** Operations the bundled code implements. */
  operations: OperationName[];
  /** Migration ids per object type, in ascending order. */
  migrationIds: Record<MigrationObjectType, string[]>;
}

/** The built artifact. */
export interface PluginArtifact {
  formatVersion: 1;
  manifest: PluginManifest;
  /** Each definition's JSON Schema (draft-07), as written in schema.json. */
  schemas: Record<SchemaDefinitionName, Record<string, unknown>>;
  /** The plugin's code as one ESM bundle whose default export is the value of `definePlugin(...)`. */
  code: string;
  /** sha256 hex of `code`. */
  codeSha256: string;
  /** ISO time of the build. */
  builtAt: string;
}
