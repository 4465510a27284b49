// The plugin toolchain behind `dvx plugin init` and `dvx plugin build`, and the reader of what it builds.
export { buildPlugin, type BuildPluginOptions, type BuildPluginResult } from './build-plugin.js';
export { initPlugin, type InitPluginOptions, type InitPluginResult } from './init-plugin.js';
export { loadArtifact } from './load-artifact.js';
export { formatBuildIssue, PluginBuildError, type PluginBuildIssue } from './plugin-build-error.js';
export { GENERATED_TYPES_FILE } from './generate-types.js';
export { parsePluginType, type PluginType } from './scaffold-templates.js';
