/**
 * The dvx plugin SDK (`dvx/sdk`): everything a plugin imports. Modelled on the Delphix Virtualization SDK; argument
 * names are the vSDK's in camelCase. Platform libraries work only inside an operation run by the dvx engine.
 */
export {
  compareMigrationIds,
  definePlugin,
  implementedOperations,
  isPlugin,
  migrationIdsOf,
  type DirectLinkedOperations,
  type DirectPluginSpec,
  type DiscoveryOperations,
  type LinkedOperations,
  type Migration,
  type Plugin,
  type PluginDefinitions,
  type PluginKind,
  type PluginSpecFor,
  type PluginSpec,
  type StagedLinkedOperations,
  type StagedPluginSpec,
  type UpgradeOperations,
  type VirtualOperations,
} from './define-plugin.js';
export type {
  DirectSource,
  Mount,
  MountRequest,
  MountSpecification,
  OwnershipSpecification,
  RemoteConnection,
  RemoteEnvironment,
  RemoteUser,
  StagedSource,
  Status,
  UnmountedStagedSource,
  UnmountedVirtualSource,
  VirtualSource,
} from './platform-objects.js';
export {
  currentOperationId,
  isPlatformError,
  logger,
  retrieveCredentials,
  runBash,
  runExpect,
  runSync,
  type Credentials,
  type LogLevel,
  type PlatformError,
  type PlatformHook,
  type RunBashOptions,
  type RunBashResponse,
  type RunExpectOptions,
  type RunSyncRequest,
  type RunSyncResponse,
} from './platform-libs.js';
export { withSecretFile, type WithSecretFileOptions } from './secret-file.js';
export { UserError } from './user-error.js';
export type { OperationName, MigrationObjectType } from '../plugin-artifact.js';
