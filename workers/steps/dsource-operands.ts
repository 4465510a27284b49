import { ConflictError } from '../../errors/index.js';
import type { DsourceRecord } from '../../model/dsource.js';
import type { PluginArtifact } from '../../operations/index.js';
import { sdkMounts } from './mount-specification.js';
import { openPluginData } from '../../model/plugin-data.js';
import { loadPluginArtifact, remoteConnectionOf } from './plugin-call.js';
import type { StepServices } from './step-services.js';

/** Everything a linked plugin operation of a dSource is called with. */
export interface DsourceOperands {
  dsource: DsourceRecord;
  artifact: PluginArtifact;
  repository: Record<string, unknown>;
  sourceConfig: Record<string, unknown>;
  /** `stagedSource` (staged plugins) or `directSource` (direct plugins), under its SDK argument name. */
  source: { stagedSource: Record<string, unknown> } | { directSource: Record<string, unknown> };
}

/** The dataset holding a dSource's data: refused for a dSource whose storage was never made or was destroyed. */
export function currentDataset(dsource: DsourceRecord): string {
  if (dsource.currentTimeflowId === null) {
    throw new ConflictError({
      message: `dSource ${dsource.name} has no storage.`,
      action: 'Delete it and create it again.',
    });
  }
  return dsource.currentTimeflowId;
}

/** Loads a dSource and builds the SDK objects its linked operations take, secrets unsealed for the plugin. */
export async function dsourceOperands(
  services: StepServices,
  dsourceId: string,
  options: { withMount?: boolean } = {},
): Promise<DsourceOperands> {
  const { model } = services;
  const dsource = await model.dsources.require(dsourceId);
  const artifact = await loadPluginArtifact(services, dsource.pluginId);
  const [repository, sourceConfig, sourceEnvironment] = await Promise.all([
    model.repositories.require(dsource.repositoryId),
    model.sourceConfigs.require(dsource.sourceConfigId),
    model.environments.require(dsource.sourceEnvironmentId),
  ]);
  const parameters = openPluginData(services, artifact, 'linkedSourceDefinition', dsource.parameters);
  let source: DsourceOperands['source'];
  if (dsource.pluginType === 'STAGED') {
    const stagingEnvironment = await model.environments.require(
      dsource.stagingEnvironmentId ?? dsource.sourceEnvironmentId,
    );
    const stagedSource: Record<string, unknown> = {
      guid: dsource.id,
      sourceConnection: remoteConnectionOf(sourceEnvironment),
      stagedConnection: remoteConnectionOf(stagingEnvironment),
      parameters,
    };
    if (options.withMount !== false && dsource.stagingMounts?.length)
      stagedSource.mount = (await sdkMounts(services, dsource.stagingMounts))[0];
    source = { stagedSource };
  } else {
    source = { directSource: { guid: dsource.id, connection: remoteConnectionOf(sourceEnvironment), parameters } };
  }
  return {
    dsource,
    artifact,
    repository: openPluginData(services, artifact, 'repositoryDefinition', repository.parameters),
    sourceConfig: openPluginData(services, artifact, 'sourceConfigDefinition', sourceConfig.parameters),
    source,
  };
}
