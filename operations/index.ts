export * from './plugin-artifact.js';
export { invokePlugin, hasOperation, OPERATION_DEFAULTS, INVOKE_DEFAULTS, type InvokeOptions } from './invoker/index.js';
export { createPlatformServices, type PlatformServices, type PlatformServicesOptions, type CommandResult } from './platform-services.js';
export { createPluginAjv, definitionValidator, issuesOf, PLUGIN_FORMATS } from './schemas-of.js';
