import { PluginError } from '../../errors/index.js';
import type { SnapshotRecord } from '../../model/snapshot.js';
import { hasOperation, type PluginArtifact } from '../../operations/index.js';
import type { MountSpecification, SealedData, VdbStatus } from '../../machines/index.js';
import type { DvxStepHandlers, StepContext } from '../step-handler.js';
import { environmentMounts } from './environment-mounts.js';
import { resolveMountSpecification } from './mount-specification.js';
import { openPluginData, sealPluginData } from '../../model/plugin-data.js';
import { callPlugin } from './plugin-call.js';
import type { StepServices } from './step-services.js';
import { snapshotMetadata, vdbOperands } from './vdb-operands.js';

/** What the operations that work on a configured VDB take (see the catalogue: unconfigure may bring the source config). */
interface VdbStep {
  vdbId: string;
  /** A source config from an earlier step of the run (sealed), for runs where the VDB record has none yet. */
  sourceConfig?: SealedData | null;
}

function requireSourceConfig(
  sourceConfig: Record<string, unknown> | null,
  operation: string,
  vdbId: string,
): Record<string, unknown> {
  if (sourceConfig) return sourceConfig;
  throw new PluginError({
    code: 'PLUGIN_INVALID_INPUT',
    message: `VDB ${vdbId} has no source config for ${operation}: it was never configured.`,
    action: 'Delete the VDB and provision it again.',
    details: { operation },
  });
}

/** The snapshot a VDB's current timeflow was cloned from: what reconfigure is given when no snapshot is named. */
async function currentBaseSnapshot(services: StepServices, vdbId: string): Promise<SnapshotRecord> {
  const vdb = await services.model.vdbs.require(vdbId);
  const timeflow = vdb.currentTimeflowId ? await services.model.timeflows.get(vdb.currentTimeflowId) : null;
  return services.model.snapshots.require(timeflow?.parentSnapshotId ?? vdb.provisionedFromSnapshotId);
}

/** The plugin's virtual operations, called for a VDB. Outputs are sealed before they enter the run's context. */
export function virtualSteps(services: StepServices) {
  const seal = (artifact: PluginArtifact, output: SealedData) =>
    sealPluginData(services, artifact, 'sourceConfigDefinition', output);

  type Configured = 'unconfigure' | 'cleanup' | 'start' | 'stop' | 'preSnapshot' | 'postSnapshot' | 'status';
  /** The VDB's operands and the source config its operations take: the one the run brings, else the recorded one. */
  const configuredOperands = async (input: VdbStep) => {
    const operands = await vdbOperands(services, input.vdbId);
    const given = input.sourceConfig
      ? openPluginData(services, operands.artifact, 'sourceConfigDefinition', input.sourceConfig)
      : null;
    return { operands, sourceConfig: given ?? operands.sourceConfig };
  };
  const callConfigured = <Operation extends Configured>(
    operation: Operation,
    { operands, sourceConfig }: Awaited<ReturnType<typeof configuredOperands>>,
    context: StepContext,
  ) =>
    callPlugin(services, context, {
      pluginId: operands.vdb.pluginId,
      operation: `virtual.${operation}` as const,
      args: {
        virtualSource: operands.virtualSource,
        repository: operands.repository,
        sourceConfig: requireSourceConfig(sourceConfig, `virtual.${operation}`, operands.vdb.id),
      },
    });
  const returningNothing =
    (operation: 'unconfigure' | 'cleanup' | 'start' | 'stop' | 'preSnapshot') =>
    async (input: VdbStep, context: StepContext) => {
      const configured = await configuredOperands(input);
      // Nothing was configured yet (a provision that failed before configure): nothing to unconfigure or clean up.
      if (!configured.sourceConfig && (operation === 'unconfigure' || operation === 'cleanup')) return null;
      await callConfigured(operation, configured, context);
      return null;
    };

  const configure = async (
    input: { vdbId: string; snapshotId: string; mountSpecification: MountSpecification | null },
    context: StepContext,
  ) => {
    const operands = await vdbOperands(services, input.vdbId, { mounts: input.mountSpecification?.mounts ?? null });
    const snapshot = await snapshotMetadata(services, operands.artifact, input.snapshotId);
    const output = await callPlugin(services, context, {
      pluginId: operands.vdb.pluginId,
      operation: 'virtual.configure',
      args: { virtualSource: operands.virtualSource, snapshot, repository: operands.repository },
    });
    return seal(operands.artifact, output);
  };

  const reconfigure = async (input: { vdbId: string; snapshotId: string | null }, context: StepContext) => {
    const operands = await vdbOperands(services, input.vdbId);
    const snapshot = input.snapshotId
      ? await snapshotMetadata(services, operands.artifact, input.snapshotId)
      : openPluginData(
          services,
          operands.artifact,
          'snapshotDefinition',
          (await currentBaseSnapshot(services, input.vdbId)).metadata,
        );
    const sourceConfig = requireSourceConfig(operands.sourceConfig, 'virtual.reconfigure', input.vdbId);
    const output = await callPlugin(services, context, {
      pluginId: operands.vdb.pluginId,
      operation: 'virtual.reconfigure',
      args: { virtualSource: operands.virtualSource, repository: operands.repository, sourceConfig, snapshot },
    });
    return seal(operands.artifact, output);
  };

  const status = async (input: { vdbId: string }, context: StepContext): Promise<VdbStatus> => {
    const operands = await vdbOperands(services, input.vdbId, { withMounts: false });
    // A VDB whose storage is not attached is inactive whatever the plugin thinks; a plugin without status is ACTIVE otherwise.
    for (const mount of operands.vdb.mounts ?? []) {
      const { connection, transport } = await environmentMounts(services, mount.environmentId);
      if (!(await transport.isAttached({ connection, mountPath: mount.mountPath }))) return 'INACTIVE';
    }
    if (!operands.vdb.mounts?.length) return 'INACTIVE';
    if (!hasOperation(operands.artifact, 'virtual.status')) return 'ACTIVE';
    return callConfigured('status', await configuredOperands(input), context);
  };

  return {
    'plugin.virtual.mountSpecification': async (input, context) => {
      const operands = await vdbOperands(services, input.vdbId, { withMounts: false });
      const specification = await callPlugin(services, context, {
        pluginId: operands.vdb.pluginId,
        operation: 'virtual.mountSpecification',
        args: { virtualSource: operands.virtualSource, repository: operands.repository },
      });
      return resolveMountSpecification(services, specification, 'virtual.mountSpecification');
    },
    'plugin.virtual.configure': configure,
    'plugin.virtual.reconfigure': reconfigure,
    'plugin.virtual.unconfigure': returningNothing('unconfigure'),
    'plugin.virtual.cleanup': returningNothing('cleanup'),
    'plugin.virtual.start': returningNothing('start'),
    'plugin.virtual.stop': returningNothing('stop'),
    'plugin.virtual.preSnapshot': returningNothing('preSnapshot'),
    'plugin.virtual.postSnapshot': async (input, context) => {
      const configured = await configuredOperands(input);
      return sealPluginData(
        services,
        configured.operands.artifact,
        'snapshotDefinition',
        await callConfigured('postSnapshot', configured, context),
      );
    },
    'plugin.virtual.status': status,
  } satisfies Partial<DvxStepHandlers>;
}
