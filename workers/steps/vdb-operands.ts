import type { ResolvedMount } from '../../model/dsource.js';
import type { VdbRecord } from '../../model/vdb.js';
import type { PluginArtifact } from '../../operations/index.js';
import { sdkMounts } from './mount-specification.js';
import { openPluginData } from '../../model/plugin-data.js';
import { loadPluginArtifact, remoteConnectionOf } from './plugin-call.js';
import type { StepServices } from './step-services.js';

/** Everything a virtual plugin operation of a VDB is called with. */
export interface VdbOperands {
  vdb: VdbRecord;
  artifact: PluginArtifact;
  repository: Record<string, unknown>;
  virtualSource: Record<string, unknown>;
  /** The VDB's source config (what configure returned), unsealed; null before the first configure. */
  sourceConfig: Record<string, unknown> | null;
}

/** Loads a VDB and builds the SDK objects its virtual operations take. `mounts` overrides the recorded mounts. */
export async function vdbOperands(
  services: StepServices,
  vdbId: string,
  options: { mounts?: ResolvedMount[] | null; withMounts?: boolean } = {},
): Promise<VdbOperands> {
  const { model } = services;
  const vdb = await model.vdbs.require(vdbId);
  const artifact = await loadPluginArtifact(services, vdb.pluginId);
  const [repository, environment] = await Promise.all([
    model.repositories.require(vdb.repositoryId),
    model.environments.require(vdb.environmentId),
  ]);
  const virtualSource: Record<string, unknown> = {
    guid: vdb.id,
    connection: remoteConnectionOf(environment),
    parameters: openPluginData(services, artifact, 'virtualSourceDefinition', vdb.parameters),
  };
  if (options.withMounts !== false) virtualSource.mounts = await sdkMounts(services, options.mounts ?? vdb.mounts);
  return {
    vdb,
    artifact,
    repository: openPluginData(services, artifact, 'repositoryDefinition', repository.parameters),
    virtualSource,
    sourceConfig: vdb.sourceConfig
      ? openPluginData(services, artifact, 'sourceConfigDefinition', vdb.sourceConfig)
      : null,
  };
}

/** The plugin metadata of a snapshot, unsealed for the plugin. */
export async function snapshotMetadata(
  services: StepServices,
  artifact: PluginArtifact,
  snapshotId: string,
): Promise<Record<string, unknown>> {
  const snapshot = await services.model.snapshots.require(snapshotId);
  return openPluginData(services, artifact, 'snapshotDefinition', snapshot.metadata);
}
