// The engine-facing side of operations/: run plugin operations, serve their platform calls, read artifacts.
export * from './plugin-artifact.js';
export { checkArtifact } from './check-artifact.js';
export {
  invokePlugin,
  hasOperation,
  hasDefault,
  OPERATION_DEFAULTS,
  INVOKE_DEFAULTS,
  type InvokeOptions,
  nodeRunnerLauncher,
  pythonRunnerLauncher,
  RUNNER_LAUNCHERS,
  RunnerPool,
  WARM_RUNNER_DEFAULTS,
  type IdleRunner,
  type RunnerCode,
  type RunnerLauncher,
  type WarmRunnerOptions,
} from './invoker/index.js';
export {
  CommandFailedError,
  createPlatformServices,
  type CommandResult,
  type Credentials,
  type LogLevel,
  type PlatformServices,
  type PlatformServicesOptions,
  type RunBashOptions,
  type RunExpectOptions,
  type RunSyncRequest,
  type RunSyncResponse,
} from './platform-services.js';
export { createPluginAjv, definitionValidator, issuesOf, mountPathProperties, PLUGIN_FORMATS } from './schemas-of.js';
export type {
  DirectSource,
  Mount,
  MountSpecification,
  RemoteConnection,
  RemoteEnvironment,
  RemoteUser,
  StagedSource,
  Status,
  VirtualSource,
} from './sdk/index.js';
