import { ValidationError } from '../errors/index.js';
import { sealPluginData } from '../model/plugin-data.js';
import { identityOf, nameOf, stableId } from '../model/plugin-identity.js';
import { checkSafeText } from '../schemas/safe-text.js';
import { validatePluginData } from './plugin-data.js';
import { present } from './present.js';
import type { ServiceContext } from './service-context.js';

export async function listRepositories(ctx: ServiceContext, filter: { environment?: string }) {
  const repositories = filter.environment
    ? await ctx.model.repositories.listBy(
        'environmentId',
        (await ctx.model.environments.requireFind(filter.environment)).id,
      )
    : await ctx.model.repositories.list();
  return present(repositories);
}

export async function listSourceConfigs(ctx: ServiceContext, filter: { environment?: string; repository?: string }) {
  let configs = filter.environment
    ? await ctx.model.sourceConfigs.listBy(
        'environmentId',
        (await ctx.model.environments.requireFind(filter.environment)).id,
      )
    : await ctx.model.sourceConfigs.list();
  if (filter.repository)
    configs = configs.filter(
      (config) => config.repositoryId === filter.repository || config.name === filter.repository,
    );
  return present(configs);
}

/** Adds a source config by hand (one discovery did not find), validated against the plugin's schema. */
export async function addSourceConfig(
  ctx: ServiceContext,
  request: { repository: string; parameters: Record<string, unknown> },
) {
  const repository = await ctx.model.repositories.get(request.repository);
  if (!repository)
    throw new ValidationError(
      `No repository "${request.repository}".`,
      [{ pointer: '/repository', message: 'no such repository' }],
      { action: 'See `dvx repo list` for repository ids.' },
    );
  const artifact = await ctx.model.pluginArtifact(repository.pluginId);
  validatePluginData(artifact, 'sourceConfigDefinition', request.parameters, '/parameters');
  const identity = identityOf(artifact.schemas.sourceConfigDefinition, request.parameters);
  const id = stableId('sc', repository.id, identity);
  const name = nameOf(artifact.schemas.sourceConfigDefinition, request.parameters, id);
  const nameField = (artifact.schemas.sourceConfigDefinition as { nameField?: string }).nameField;
  checkSafeText(name, nameField ? `/parameters/${nameField}` : '/parameters', 'Source config name');
  const existing = await ctx.model.sourceConfigs.get(id);
  if (existing)
    throw new ValidationError(
      `Repository ${repository.name} already has this source config (${existing.id}, "${existing.name}").`,
      [{ pointer: '/parameters', message: 'same identity fields as an existing source config' }],
      { action: 'Use the existing source config.' },
    );
  const config = await ctx.model.sourceConfigs.create({
    id,
    environmentId: repository.environmentId,
    repositoryId: repository.id,
    pluginId: repository.pluginId,
    name,
    identity,
    parameters: sealPluginData(ctx, artifact, 'sourceConfigDefinition', request.parameters),
    discovered: false,
    linkingEnabled: true,
  });
  return present(config);
}
