import { DvxError } from '../../errors/index.js';
import { probeHost } from '../../hosts/index.js';
import type { DiscoverySummary, RepositoriesFound, SourceConfigsFound } from '../../machines/index.js';
import type { DvxStepHandlers, StepContext } from '../step-handler.js';
import { chooseMountTransport } from './choose-mount-transport.js';
import { connectEnvironment } from './environment-connection.js';
import { openPluginData, sealPluginData } from '../../model/plugin-data.js';
import { identityOf, nameOf, stableId } from '../../model/plugin-identity.js';
import { callPlugin, loadPluginArtifact, remoteConnectionOf } from './plugin-call.js';
import type { StepServices } from './step-services.js';
import { storedError } from './stored-error.js';

interface DiscoveryStep {
  environmentId: string;
  pluginIds: string[];
}

/** Host probing, plugin discovery and reconciliation of what was found with what is recorded. */
export function discoverySteps(services: StepServices) {
  const { model } = services;

  const repositories = async (input: DiscoveryStep, context: StepContext): Promise<RepositoriesFound> => {
    const environment = await model.environments.require(input.environmentId);
    const found: RepositoriesFound = {};
    for (const pluginId of input.pluginIds) {
      const artifact = await loadPluginArtifact(services, pluginId);
      const output = await callPlugin(services, context, {
        pluginId,
        operation: 'discovery.repository',
        args: { sourceConnection: remoteConnectionOf(environment) },
      });
      found[pluginId] = output.map((repository) =>
        sealPluginData(services, artifact, 'repositoryDefinition', repository),
      );
    }
    return found;
  };

  const sourceConfigs = async (
    input: DiscoveryStep & { repositories: RepositoriesFound | null },
    context: StepContext,
  ): Promise<SourceConfigsFound> => {
    const environment = await model.environments.require(input.environmentId);
    const found: SourceConfigsFound = {};
    for (const [pluginId, repos] of Object.entries(input.repositories ?? {})) {
      const artifact = await loadPluginArtifact(services, pluginId);
      found[pluginId] = [];
      for (const [index, repository] of repos.entries()) {
        const output = await callPlugin(services, context, {
          pluginId,
          operation: 'discovery.sourceConfig',
          args: {
            sourceConnection: remoteConnectionOf(environment),
            repository: openPluginData(services, artifact, 'repositoryDefinition', repository),
          },
        });
        found[pluginId].push({
          repository: index,
          sourceConfigs: output.map((config) => sealPluginData(services, artifact, 'sourceConfigDefinition', config)),
        });
      }
    }
    return found;
  };

  const reconcile: DvxStepHandlers['model.reconcileDiscovery'] = async (input, context) => {
    const summary: DiscoverySummary = {
      repositories: { added: 0, kept: 0, removed: 0 },
      sourceConfigs: { added: 0, kept: 0, removed: 0 },
    };
    for (const [pluginId, repos] of Object.entries(input.repositories ?? {})) {
      const artifact = await loadPluginArtifact(services, pluginId);
      const seenRepositories = new Set<string>();
      const seenConfigs = new Set<string>();
      const repositoryIds: string[] = [];
      for (const parameters of repos) {
        const identity = identityOf(artifact.schemas.repositoryDefinition, parameters);
        const id = stableId('repo', input.environmentId, pluginId, identity);
        repositoryIds.push(id);
        seenRepositories.add(id);
        const name = nameOf(artifact.schemas.repositoryDefinition, parameters, id);
        if (await model.repositories.get(id)) {
          await model.repositories.update(id, () => ({ name, parameters }));
          summary.repositories.kept += 1;
        } else {
          await model.repositories.create({
            id,
            environmentId: input.environmentId,
            pluginId,
            name,
            identity,
            parameters,
          });
          summary.repositories.added += 1;
        }
      }
      for (const { repository, sourceConfigs } of input.sourceConfigs?.[pluginId] ?? []) {
        const repositoryId = repositoryIds[repository];
        if (repositoryId === undefined)
          throw new DvxError({
            code: 'INTERNAL',
            message: `Discovery found source configs of repository ${repository} of plugin ${pluginId}, which it did not find.`,
          });
        for (const parameters of sourceConfigs) {
          const identity = identityOf(artifact.schemas.sourceConfigDefinition, parameters);
          const id = stableId('sc', repositoryId, identity);
          seenConfigs.add(id);
          const name = nameOf(artifact.schemas.sourceConfigDefinition, parameters, id);
          const existing = await model.sourceConfigs.get(id);
          if (existing) {
            await model.sourceConfigs.update(id, () => ({ name, parameters, discovered: true }));
            summary.sourceConfigs.kept += 1;
          } else {
            await model.sourceConfigs.create({
              id,
              environmentId: input.environmentId,
              repositoryId,
              pluginId,
              name,
              identity,
              parameters,
              discovered: true,
              linkingEnabled: true,
            });
            summary.sourceConfigs.added += 1;
          }
        }
      }
      // What this plugin no longer finds goes, unless something is linked to it or a user added it.
      for (const config of await model.sourceConfigs.listBy('environmentId', input.environmentId)) {
        if (config.pluginId !== pluginId || !config.discovered || seenConfigs.has(config.id)) continue;
        if ((await model.dsources.listBy('sourceConfigId', config.id)).length > 0) continue;
        await model.sourceConfigs.delete(config.id);
        summary.sourceConfigs.removed += 1;
      }
      for (const repository of await model.repositories.listBy('environmentId', input.environmentId)) {
        if (repository.pluginId !== pluginId || seenRepositories.has(repository.id)) continue;
        const inUse =
          (await model.sourceConfigs.listBy('repositoryId', repository.id)).length > 0 ||
          (await model.vdbs.list()).some((vdb) => vdb.repositoryId === repository.id);
        if (inUse) continue;
        await model.repositories.delete(repository.id);
        summary.repositories.removed += 1;
      }
    }
    await model.environments.update(input.environmentId, (environment) => ({
      status: 'ACTIVE',
      lastError: null,
      lastRunId: context.runId,
      ...(input.probe ? { facts: input.probe, scratchPath: environment.scratchPath || input.probe.scratchPath } : {}),
    }));
    return summary;
  };

  return {
    'host.probe': async (input, context) => {
      const environment = await model.environments.require(input.environmentId);
      const connection = await connectEnvironment(services, input.environmentId);
      const facts = await probeHost(connection, { signal: context.signal });
      const mountTransport = await chooseMountTransport(services, environment, connection);
      await model.environments.update(environment.id, () => ({ mountTransport }));
      return facts;
    },
    'plugin.discovery.repository': repositories,
    'plugin.discovery.sourceConfig': sourceConfigs,
    'model.reconcileDiscovery': reconcile,
    'model.recordEnvironmentFailure': async (input, context) => {
      if (await model.environments.get(input.environmentId)) {
        await model.environments.update(input.environmentId, () => ({
          status: 'FAILED',
          lastError: input.error ? storedError(input.error) : null,
          lastRunId: context.runId,
        }));
      }
      return null;
    },
  } satisfies Partial<DvxStepHandlers>;
}
