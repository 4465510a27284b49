import { createHash } from 'node:crypto';
import { isDvxError, ValidationError } from '../errors/index.js';
import type { PluginRecord } from '../model/plugin-record.js';
import { checkArtifact, type PluginArtifact } from '../operations/index.js';
import { checkSafeText } from '../schemas/safe-text.js';
import type { RunSummary } from './runs.js';
import type { Actor, ServiceContext } from './service-context.js';
import { startRun } from './start-run.js';

export function presentPlugin(plugin: PluginRecord, artifact?: PluginArtifact | null) {
  return { ...plugin, ...(artifact ? { operations: artifact.manifest.operations } : {}) };
}

/** What an upload did about one environment: its rediscovery run, or why none was started. */
export interface Rediscovery {
  environment: { id: string; name: string };
  /** The rediscovery run; absent when none was started. */
  runId?: string;
  /** Why no run was started (the environment is busy with another run). */
  skipped?: { code: string; message: string; action: string };
}

/**
 * Installs (or replaces) a plugin, then rediscovers every environment with it so that its repositories appear.
 * Environments busy with another run are left for `dvx env refresh`, and said so in `rediscoveries`.
 */
export async function uploadPlugin(
  ctx: ServiceContext,
  body: unknown,
  actor: Actor,
): Promise<{ plugin: ReturnType<typeof presentPlugin>; runs: RunSummary[]; rediscoveries: Rediscovery[] }> {
  const artifact = checkArtifact(body);
  const { manifest } = artifact;
  checkSafeText(manifest.name, '/manifest/name', 'Plugin name');
  const artifactHash = createHash('sha256').update(JSON.stringify(artifact)).digest('hex');
  const existing = await ctx.model.plugins.get(manifest.id);
  const byName = await ctx.model.plugins.byName(manifest.name);
  if (byName && byName.id !== manifest.id)
    throw new ValidationError(
      `Another plugin is already named "${manifest.name}" (${byName.id}).`,
      [{ pointer: '/manifest/name', message: 'already taken' }],
      { action: 'Rename the plugin in plugin.yml and build it again.' },
    );
  await ctx.model.putPluginArtifact(manifest.id, artifact);
  const fields = {
    name: manifest.name,
    buildNumber: manifest.buildNumber,
    externalVersion: manifest.externalVersion,
    pluginType: manifest.pluginType,
    artifactHash,
    uploadedBy: actor.name,
  };
  const plugin = existing
    ? await ctx.model.plugins.update(manifest.id, () => fields)
    : await ctx.model.plugins.create({ id: manifest.id, ...fields });
  const runs: RunSummary[] = [];
  const rediscoveries: Rediscovery[] = [];
  for (const environment of await ctx.model.environments.list()) {
    const about = { id: environment.id, name: environment.name };
    try {
      const run = await startRun(
        ctx,
        'discover',
        { type: 'environment', id: environment.id },
        { environmentId: environment.id, pluginIds: [manifest.id] },
        actor,
      );
      runs.push(run);
      rediscoveries.push({ environment: about, runId: run.id });
    } catch (error) {
      if (!(isDvxError(error) && error.code === 'OBJECT_LOCKED')) throw error;
      rediscoveries.push({
        environment: about,
        skipped: {
          code: error.code,
          message: error.message,
          action: `Once that run has ended, rediscover it: dvx env refresh ${environment.name}`,
        },
      });
    }
  }
  return { plugin: presentPlugin(plugin, artifact), runs, rediscoveries };
}

export async function listPlugins(ctx: ServiceContext) {
  return Promise.all(
    (await ctx.model.plugins.list()).map(async (plugin) =>
      presentPlugin(plugin, await ctx.model.findPluginArtifact(plugin.id)),
    ),
  );
}
