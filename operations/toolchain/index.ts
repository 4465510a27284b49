// The plugin toolchain behind `dvx plugin init` and `dvx plugin build`, and the reader of what it builds.
export { buildPlugin, DEFAULT_ARTIFACT_FILE, type BuildPluginOptions, type BuildPluginResult } from './build-plugin.js';
export { initPlugin, type InitPluginOptions, type InitPluginResult } from './init-plugin.js';
export { checkArtifactShape, loadArtifact } from './load-artifact.js';
export { formatBuildIssue, PluginBuildError, type PluginBuildIssue } from './plugin-build-error.js';
export { PLUGIN_CONFIG_FILE, readPluginConfig, validatePluginConfig, type PluginConfigReading } from './validate-plugin-config.js';
export { readPluginSchema, validatePluginSchema, type PluginSchemaReading, type PluginSchemas } from './validate-plugin-schema.js';
export { definitionTypes, GENERATED_TYPES_FILE, writeDefinitionTypes } from './generate-types.js';
export { typeCheckPlugin, TYPE_CHECK_DEFAULTS, type TypeCheckOptions } from './type-check.js';
export { bundlePlugin, type BundlePluginOptions, type BundleResult } from './bundle-plugin.js';
export { readPluginShape, READ_SHAPE_DEFAULTS, type PluginShape, type ReadPluginShapeOptions } from './read-plugin-shape.js';
export { REQUIRED_OPERATIONS, UNUSED_OPERATIONS } from './required-operations.js';
export { SDK_ENTRY, SDK_TYPES } from './sdk-location.js';
export type { PluginType } from './scaffold-templates.js';
export type { PluginConfig } from '../../schemas/plugin-config.schema.js';
