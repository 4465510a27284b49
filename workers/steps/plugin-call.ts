import { NotFoundError } from '../../errors/index.js';
import type { EnvironmentRecord } from '../../model/environment.js';
import {
  createPlatformServices,
  invokePlugin,
  type OperationName,
  type PluginArtifact,
} from '../../operations/index.js';
import type { SyncDestination } from '../../operations/platform-services.js';
import type { StepContext } from '../step-handler.js';
import { connectEnvironment, openCredentials } from './environment-connection.js';
import type { PluginMountSpecification } from './mount-specification.js';
import type { StepServices } from './step-services.js';

const artifacts = new Map<string, { hash: string; artifact: PluginArtifact }>();

/** A plugin's built artifact, as uploaded (cached per process by artifact hash). */
export async function loadPluginArtifact(services: StepServices, pluginId: string): Promise<PluginArtifact> {
  const record = await services.model.plugins.get(pluginId);
  if (!record) throw new NotFoundError('plugin', pluginId, 'Upload it with `dvx plugin upload`.');
  const cached = artifacts.get(pluginId);
  if (cached && cached.hash === record.artifactHash) return cached.artifact;
  const artifact = await services.model.pluginArtifact(pluginId);
  artifacts.set(pluginId, { hash: record.artifactHash, artifact });
  return artifact;
}

/** The SDK's RemoteEnvironment of an environment. */
export function remoteEnvironmentOf(environment: EnvironmentRecord) {
  return {
    name: environment.name,
    reference: environment.id,
    host: { hostname: environment.address.host, scratchPath: environment.scratchPath },
  };
}

/** The SDK's RemoteConnection of an environment: its login user. */
export function remoteConnectionOf(environment: EnvironmentRecord) {
  return {
    environment: remoteEnvironmentOf(environment),
    user: { name: environment.address.user, reference: environment.id },
  };
}

/** What plugin operations return once the invoker has checked it (operations/invoker/operation-contract.ts `checkOutput`). */
interface PluginOutputs {
  'discovery.repository': Record<string, unknown>[];
  'discovery.sourceConfig': Record<string, unknown>[];
  'linked.postSnapshot': Record<string, unknown>;
  'virtual.postSnapshot': Record<string, unknown>;
  'virtual.configure': Record<string, unknown>;
  'virtual.initialize': Record<string, unknown>;
  'virtual.reconfigure': Record<string, unknown>;
  'linked.mountSpecification': PluginMountSpecification;
  'virtual.mountSpecification': PluginMountSpecification;
  'linked.status': 'ACTIVE' | 'INACTIVE';
  'virtual.status': 'ACTIVE' | 'INACTIVE';
  /** Undefined when the plugin does not implement it. */
  'linked.sourceSize': number | undefined;
  'virtual.sourceSize': number | undefined;
}

/** What a plugin operation returns: undefined for those that return nothing. */
export type PluginOutput<Operation extends OperationName> = Operation extends keyof PluginOutputs
  ? PluginOutputs[Operation]
  : undefined;

/** One plugin operation call from a step. */
export interface PluginCall<Operation extends OperationName = OperationName> {
  pluginId: string;
  operation: Operation;
  args: Record<string, unknown>;
  /** Where `runSync` copies to in linked.preSnapshot: the dSource's storage (direct) or its staging mount (staged). */
  syncDestination?: SyncDestination;
}

/**
 * Runs a plugin operation in a child process of its own (a warm one from `services.runners` when there are) with the step's operation id, the engine's platform services (hosts
 * reached through the connection pool) and the step's abort signal.
 */
export async function callPlugin<Operation extends OperationName>(
  services: StepServices,
  context: StepContext,
  call: PluginCall<Operation>,
): Promise<PluginOutput<Operation>> {
  const artifact = await loadPluginArtifact(services, call.pluginId);
  const platform = createPlatformServices({
    connect: (reference) => connectEnvironment(services, reference),
    ...(call.syncDestination ? { syncDestination: call.syncDestination } : {}),
    credentials: async (reference) => {
      const environment = await services.model.environments.require(reference);
      const credentials = openCredentials(environment.credentials, services.secrets);
      return {
        username: environment.address.user,
        ...(credentials.password ? { password: credentials.password } : {}),
      };
    },
    logger: context.logger.child({ plugin: call.pluginId, operation: call.operation }),
    signal: context.signal,
  });
  const output = await invokePlugin({
    artifact,
    operation: call.operation,
    args: call.args,
    operationId: context.operationId,
    services: platform,
    signal: context.signal,
    logger: context.logger,
    ...(services.plugins?.timeoutMs ? { timeoutMs: services.plugins.timeoutMs } : {}),
    ...(services.plugins?.cacheDir ? { cacheDir: services.plugins.cacheDir } : {}),
    ...(services.runners ? { runners: services.runners } : {}),
  });
  // The invoker checked the output against the operation's contract (checkOutput) before returning it.
  return output as PluginOutput<Operation>;
}
