import { createHash } from 'node:crypto';
import { isDvxError, ValidationError } from '../../errors/index.js';
import type { PluginRecord } from '../../model/plugin-record.js';
import { OPERATION_NAMES, SCHEMA_DEFINITIONS, type PluginArtifact } from '../../operations/index.js';
import type { RunSummary } from './runs.js';
import type { Actor, ServiceContext } from './service-context.js';
import { startRun } from './start-run.js';

/** Checks that an uploaded body is a dvx plugin artifact, naming what is wrong. */
export function checkArtifact(body: unknown): PluginArtifact {
  const issues: { pointer: string; message: string }[] = [];
  const artifact = body as Partial<PluginArtifact> | null;
  if (!artifact || typeof artifact !== 'object') throw new ValidationError('The body is not a plugin artifact.', [{ pointer: '', message: 'expected the JSON object `dvx plugin build` writes' }], { action: 'Upload build/artifact.json of a built plugin.' });
  if (artifact.formatVersion !== 1) issues.push({ pointer: '/formatVersion', message: 'must be 1' });
  const manifest = artifact.manifest;
  if (!manifest || typeof manifest !== 'object') issues.push({ pointer: '/manifest', message: 'is missing' });
  else {
    for (const field of ['id', 'name', 'buildNumber', 'externalVersion'] as const) if (typeof manifest[field] !== 'string' || !manifest[field]) issues.push({ pointer: `/manifest/${field}`, message: 'must be a non-empty string' });
    if (manifest.pluginType !== 'STAGED' && manifest.pluginType !== 'DIRECT') issues.push({ pointer: '/manifest/pluginType', message: 'must be STAGED or DIRECT' });
    if (!Array.isArray(manifest.operations) || manifest.operations.some((op) => !(OPERATION_NAMES as readonly string[]).includes(op))) issues.push({ pointer: '/manifest/operations', message: 'must list known operation names' });
  }
  for (const definition of SCHEMA_DEFINITIONS) {
    if (!artifact.schemas || typeof artifact.schemas[definition] !== 'object') issues.push({ pointer: `/schemas/${definition}`, message: 'is missing' });
  }
  if (typeof artifact.code !== 'string' || !artifact.code) issues.push({ pointer: '/code', message: 'is missing' });
  else if (createHash('sha256').update(artifact.code).digest('hex') !== artifact.codeSha256) issues.push({ pointer: '/codeSha256', message: 'does not match the code: the artifact was changed after it was built' });
  if (issues.length) {
    throw new ValidationError(`This is not a valid plugin artifact: ${issues.map((issue) => `${issue.pointer} ${issue.message}`).join('; ')}.`, issues, { action: 'Build the plugin again with `dvx plugin build` and upload build/artifact.json.' });
  }
  return artifact as PluginArtifact;
}

export function presentPlugin(plugin: PluginRecord, artifact?: PluginArtifact | null) {
  return { ...plugin, ...(artifact ? { operations: artifact.manifest.operations } : {}) };
}

/**
 * Installs (or replaces) a plugin, then rediscovers every environment with it so that its repositories appear.
 * Environments busy with another run are left for `dvx env refresh`.
 */
export async function uploadPlugin(ctx: ServiceContext, body: unknown, actor: Actor): Promise<{ plugin: ReturnType<typeof presentPlugin>; runs: RunSummary[] }> {
  const artifact = checkArtifact(body);
  const { manifest } = artifact;
  const artifactHash = createHash('sha256').update(JSON.stringify(artifact)).digest('hex');
  const existing = await ctx.model.plugins.get(manifest.id);
  const byName = await ctx.model.plugins.byName(manifest.name);
  if (byName && byName.id !== manifest.id) throw new ValidationError(`Another plugin is already named "${manifest.name}" (${byName.id}).`, [{ pointer: '/manifest/name', message: 'already taken' }], { action: 'Rename the plugin in plugin.yml and build it again.' });
  await ctx.model.putPluginArtifact(manifest.id, artifact);
  const fields = { name: manifest.name, buildNumber: manifest.buildNumber, externalVersion: manifest.externalVersion, pluginType: manifest.pluginType, artifactHash, uploadedBy: actor.name };
  const plugin = existing ? await ctx.model.plugins.update(manifest.id, () => fields) : await ctx.model.plugins.create({ id: manifest.id, ...fields });
  const runs: RunSummary[] = [];
  for (const environment of await ctx.model.environments.list()) {
    try {
      runs.push(await startRun(ctx, 'discover', { type: 'environment', id: environment.id }, { environmentId: environment.id, pluginIds: [manifest.id] }, actor));
    } catch (error) {
      if (!(isDvxError(error) && error.code === 'OBJECT_LOCKED')) throw error;
    }
  }
  return { plugin: presentPlugin(plugin, artifact), runs };
}

export async function listPlugins(ctx: ServiceContext) {
  return Promise.all((await ctx.model.plugins.list()).map(async (plugin) => presentPlugin(plugin, (await ctx.model.pluginArtifact(plugin.id)) as PluginArtifact | null)));
}
