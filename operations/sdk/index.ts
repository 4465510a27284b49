/**
 * The dvx plugin SDK (`dvx/sdk`): everything a plugin imports. Modelled on the Delphix Virtualization SDK; argument
 * names are the vSDK's in camelCase.
 */
export { definePlugin, implementedOperations, migrationIdsOf, compareMigrationIds, isPlugin, type Plugin, type PluginDefinitions, type PluginSpec, type StagedPluginSpec, type DirectPluginSpec } from './define-plugin.js';
export type { DirectSource, Mount, MountSpecification, OwnershipSpecification, RemoteConnection, RemoteEnvironment, RemoteUser, StagedSource, Status, VirtualSource } from './platform-objects.js';
export { currentOperationId, logger, retrieveCredentials, runBash, runExpect, runSync, type PlatformHook, type RunBashResponse } from './platform-libs.js';
export { UserError } from './user-error.js';
