import { PluginError } from '../../errors/index.js';
import type { SnapshotRecord } from '../../model/snapshot.js';
import { hasOperation, type PluginArtifact } from '../../operations/index.js';
import type { StepContext, StepHandlers } from '../step-handler.js';
import { connectEnvironment } from './environment-connection.js';
import { resolveMountSpecification, type PluginMountSpecification } from './mount-specification.js';
import { openPluginData, sealPluginData } from '../../model/plugin-data.js';
import { callPlugin } from './plugin-call.js';
import type { StepServices } from './step-services.js';
import { snapshotMetadata, vdbOperands } from './vdb-operands.js';

interface VdbStep {
  vdbId: string;
  snapshotId?: string;
  datasetId?: string;
  mountSpecification?: PluginMountSpecification | null;
  /** A source config from an earlier step of the run (sealed), for runs where the VDB record has none yet. */
  sourceConfig?: Record<string, unknown> | null;
}

function requireSourceConfig(sourceConfig: Record<string, unknown> | null, operation: string, vdbId: string): Record<string, unknown> {
  if (sourceConfig) return sourceConfig;
  throw new PluginError({ code: 'PLUGIN_INVALID_INPUT', message: `VDB ${vdbId} has no source config for ${operation}: it was never configured.`, action: 'Delete the VDB and provision it again.', details: { operation } });
}

/** The snapshot a VDB's current timeflow was cloned from: what reconfigure is given when no snapshot is named. */
async function currentBaseSnapshot(services: StepServices, vdbId: string): Promise<SnapshotRecord> {
  const vdb = await services.model.vdbs.require(vdbId);
  const timeflow = vdb.currentTimeflowId ? await services.model.timeflows.get(vdb.currentTimeflowId) : null;
  return services.model.snapshots.require(timeflow?.parentSnapshotId ?? vdb.provisionedFromSnapshotId);
}

/** The plugin's virtual operations, called for a VDB. Outputs are sealed before they enter the run's context. */
export function virtualSteps(services: StepServices): StepHandlers {
  const seal = (artifact: PluginArtifact, output: unknown) => (output ? sealPluginData(services, artifact, 'sourceConfigDefinition', output) : output);

  const mountSpecification = async (input: VdbStep, context: StepContext) => {
    const operands = await vdbOperands(services, input.vdbId, { withMounts: false });
    return callPlugin(services, context, { pluginId: operands.vdb.pluginId, operation: 'virtual.mountSpecification', args: { virtualSource: operands.virtualSource, repository: operands.repository } });
  };

  const configure = async (input: VdbStep, context: StepContext) => {
    const mounts = input.mountSpecification ? (await resolveMountSpecification(services, input.mountSpecification, 'virtual.mountSpecification')).mounts : null;
    const operands = await vdbOperands(services, input.vdbId, { mounts });
    const snapshot = await snapshotMetadata(services, operands.artifact, input.snapshotId ?? operands.vdb.provisionedFromSnapshotId);
    const output = await callPlugin(services, context, { pluginId: operands.vdb.pluginId, operation: 'virtual.configure', args: { virtualSource: operands.virtualSource, snapshot, repository: operands.repository } });
    return seal(operands.artifact, output);
  };

  const reconfigure = async (input: VdbStep, context: StepContext) => {
    const operands = await vdbOperands(services, input.vdbId);
    const snapshot = input.snapshotId ? await snapshotMetadata(services, operands.artifact, input.snapshotId) : openPluginData(services, operands.artifact, 'snapshotDefinition', (await currentBaseSnapshot(services, input.vdbId)).metadata);
    const sourceConfig = requireSourceConfig(operands.sourceConfig, 'virtual.reconfigure', input.vdbId);
    const output = await callPlugin(services, context, {
      pluginId: operands.vdb.pluginId,
      operation: 'virtual.reconfigure',
      args: { virtualSource: operands.virtualSource, repository: operands.repository, sourceConfig, snapshot },
    });
    return seal(operands.artifact, output);
  };

  const withSourceConfig = (operation: 'unconfigure' | 'cleanup' | 'start' | 'stop' | 'preSnapshot' | 'postSnapshot' | 'status') => async (input: VdbStep, context: StepContext) => {
    const operands = await vdbOperands(services, input.vdbId);
    const given = input.sourceConfig ? openPluginData(services, operands.artifact, 'sourceConfigDefinition', input.sourceConfig) : null;
    const sourceConfig = given ?? operands.sourceConfig;
    // Nothing was configured yet (a provision that failed before configure): nothing to unconfigure or clean up.
    if (!sourceConfig && (operation === 'unconfigure' || operation === 'cleanup')) return null;
    const output = await callPlugin(services, context, {
      pluginId: operands.vdb.pluginId,
      operation: `virtual.${operation}`,
      args: { virtualSource: operands.virtualSource, repository: operands.repository, sourceConfig: requireSourceConfig(sourceConfig, `virtual.${operation}`, input.vdbId) },
    });
    if (operation === 'postSnapshot') return sealPluginData(services, operands.artifact, 'snapshotDefinition', output);
    return output ?? null;
  };

  const callStatus = withSourceConfig('status');
  const status = async (input: VdbStep, context: StepContext) => {
    const operands = await vdbOperands(services, input.vdbId, { withMounts: false });
    // A VDB whose storage is not attached is inactive whatever the plugin thinks; a plugin without status is ACTIVE otherwise.
    for (const mount of operands.vdb.mounts ?? []) {
      const connection = await connectEnvironment(services, mount.environmentId);
      if (!(await services.mounts.isAttached({ connection, mountPath: mount.mountPath }))) return 'INACTIVE';
    }
    if (!operands.vdb.mounts?.length) return 'INACTIVE';
    if (!hasOperation(operands.artifact, 'virtual.status')) return 'ACTIVE';
    return callStatus(input, context);
  };

  return {
    'plugin.virtual.mountSpecification': mountSpecification as never,
    'plugin.virtual.configure': configure as never,
    'plugin.virtual.reconfigure': reconfigure as never,
    'plugin.virtual.unconfigure': withSourceConfig('unconfigure') as never,
    'plugin.virtual.cleanup': withSourceConfig('cleanup') as never,
    'plugin.virtual.start': withSourceConfig('start') as never,
    'plugin.virtual.stop': withSourceConfig('stop') as never,
    'plugin.virtual.preSnapshot': withSourceConfig('preSnapshot') as never,
    'plugin.virtual.postSnapshot': withSourceConfig('postSnapshot') as never,
    'plugin.virtual.status': status as never,
  };
}
