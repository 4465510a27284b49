import { ValidationError } from '../errors/index.js';
import { childVdbs, refuseIfDependents } from '../model/dependencies.js';
import { runBash } from '../hosts/index.js';
import type { DsourceRecord } from '../model/dsource.js';
import type { EnvironmentRecord } from '../model/environment.js';
import { newId, newRunId } from '../model/ids.js';
import { sealPluginData } from '../model/plugin-data.js';
import { mountPathProperties, type PluginArtifact, type SchemaDefinitionName } from '../operations/index.js';
import { mountPathIssue } from '../schemas/unix-path.js';
import { hostSpecOf } from '../workers/steps/environment-connection.js';
import { requireState } from './object-state.js';
import { validatePluginData } from './plugin-data.js';
import { present } from './present.js';
import type { RunSummary } from './runs.js';
import type { Actor, ServiceContext } from './service-context.js';
import { startRun } from './start-run.js';

/** What `dvx dsource link` / POST /dsources takes. */
export interface LinkRequest {
  name: string;
  /** Source config id or name. */
  sourceConfig: string;
  /** Staged plugins: where the staging storage is mounted (environment id or name). @defaultValue the source environment */
  stagingEnvironment?: string;
  /** The plugin's linkedSourceDefinition data. @defaultValue {} */
  parameters?: Record<string, unknown>;
}

export const OBJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function checkName(name: string, what: string): void {
  if (!OBJECT_NAME.test(name)) {
    throw new ValidationError(
      `${what} name "${name}" is not allowed.`,
      [{ pointer: '/name', message: 'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 63' }],
      { action: 'Choose a name like "orders-dev".' },
    );
  }
}

/**
 * Refuses mount paths among the parameters (see mountPathProperties) that are not absolute and normalised, hold
 * control characters or name a system directory; each named by its JSON pointer.
 */
export function checkMountParameters(
  artifact: PluginArtifact,
  definition: SchemaDefinitionName,
  parameters: Record<string, unknown>,
): void {
  const issues = mountPathProperties(artifact, definition).flatMap((name) => {
    const value = parameters[name];
    const issue = typeof value === 'string' ? mountPathIssue(value) : null;
    return issue ? [{ pointer: `/parameters/${name}`, message: issue }] : [];
  });
  if (issues.length)
    throw new ValidationError(
      `Mount path refused: ${issues.map((issue) => `${issue.pointer} ${issue.message}`).join('; ')}.`,
      issues,
      {
        action:
          'Give an absolute path of a new or empty directory that is not a system directory, e.g. /mnt/dvx/orders-dev.',
      },
    );
}

const HOLDS_FILES = 6;
// Exit HOLDS_FILES when the path is a directory with anything in it; a missing path or an empty directory is fine.
const PROBE_MOUNT_PATH = String.raw`[ -d "$MOUNT_PATH" ] || exit 0
[ -z "$(ls -A -- "$MOUNT_PATH" 2>/dev/null | head -n 1)" ] || exit ${HOLDS_FILES}`;

/**
 * Refuses mount paths among the parameters that are directories already holding files on the environment the object
 * is mounted on (mounting over them would hide those files). A host that cannot be reached is not refused here: the
 * run waits for it, and the mount checks again.
 */
export async function checkMountParametersOnHost(
  ctx: ServiceContext,
  environment: EnvironmentRecord,
  artifact: PluginArtifact,
  definition: SchemaDefinitionName,
  parameters: Record<string, unknown>,
): Promise<void> {
  if (!ctx.hosts) return;
  for (const name of mountPathProperties(artifact, definition)) {
    const path = parameters[name];
    if (typeof path !== 'string') continue;
    let result: { exitCode: number } | null = null;
    try {
      result = await runBash(ctx.hosts.get(hostSpecOf(environment, ctx.secrets)), PROBE_MOUNT_PATH, {
        variables: { MOUNT_PATH: path },
        timeoutMs: 15_000,
      });
    } catch (error) {
      ctx.logger.info({ err: (error as Error).message, environment: environment.name }, 'mount path not probed');
    }
    if (result?.exitCode === HOLDS_FILES)
      throw new ValidationError(
        `${path} on ${environment.name} is a directory that already holds files: mounting over it would hide them.`,
        [{ pointer: `/parameters/${name}`, message: 'is a directory that already holds files' }],
        { action: 'Give the path of a new or empty directory (or empty that one).' },
      );
  }
}

export const presentDsource = (dsource: DsourceRecord) => present(dsource);

async function findSourceConfig(ctx: ServiceContext, ref: string) {
  const byId = await ctx.model.sourceConfigs.get(ref);
  if (byId) return byId;
  const named = (await ctx.model.sourceConfigs.list()).filter((config) => config.name === ref);
  const [only] = named;
  if (only && named.length === 1) return only;
  throw new ValidationError(
    named.length
      ? `Source config name "${ref}" is ambiguous (${named.map((config) => config.id).join(', ')}).`
      : `No source config "${ref}".`,
    [{ pointer: '/sourceConfig', message: named.length ? 'ambiguous name' : 'no such source config' }],
    {
      action: named.length
        ? 'Give the source config id.'
        : 'See `dvx sourceconfig list`, or add one with `dvx sourceconfig add`.',
    },
  );
}

/** Links a source config: the dSource record, then a link run (storage, staging, initial resync). */
export async function linkDsource(
  ctx: ServiceContext,
  request: LinkRequest,
  actor: Actor,
): Promise<{ dsource: DsourceRecord; run: RunSummary }> {
  const { model } = ctx;
  checkName(request.name, 'dSource');
  const sourceConfig = await findSourceConfig(ctx, request.sourceConfig);
  const plugin = await model.plugins.require(sourceConfig.pluginId);
  const artifact = await model.pluginArtifact(plugin.id);
  const parameters = request.parameters ?? {};
  validatePluginData(artifact, 'linkedSourceDefinition', parameters, '/parameters');
  checkMountParameters(artifact, 'linkedSourceDefinition', parameters);
  const staging =
    plugin.pluginType === 'STAGED'
      ? request.stagingEnvironment
        ? await model.environments.find(request.stagingEnvironment)
        : await model.environments.require(sourceConfig.environmentId)
      : null;
  if (plugin.pluginType === 'STAGED' && !staging)
    throw new ValidationError(
      `No environment "${request.stagingEnvironment}".`,
      [{ pointer: '/stagingEnvironment', message: 'no such environment' }],
      { action: 'See `dvx env list`.' },
    );
  if (staging) await checkMountParametersOnHost(ctx, staging, artifact, 'linkedSourceDefinition', parameters);
  await ctx.space.require(`linking dSource ${request.name}`);
  const runId = newRunId();
  const dsource = await model.dsources.create({
    id: newId('ds'),
    name: request.name,
    pluginId: plugin.id,
    pluginType: plugin.pluginType,
    sourceConfigId: sourceConfig.id,
    repositoryId: sourceConfig.repositoryId,
    sourceEnvironmentId: sourceConfig.environmentId,
    stagingEnvironmentId: staging?.id ?? null,
    parameters: sealPluginData(ctx, artifact, 'linkedSourceDefinition', parameters),
    currentTimeflowId: null,
    stagingMounts: null,
    ownership: null,
    status: 'LINKING',
    enabled: false,
    lastRunId: runId,
    lastError: null,
  });
  try {
    const run = await startRun(
      ctx,
      'link',
      { type: 'dsource', id: dsource.id },
      { dsourceId: dsource.id, pluginType: plugin.pluginType, snapshotParameters: { resync: true } },
      actor,
      runId,
    );
    return { dsource: presentDsource(dsource), run };
  } catch (error) {
    await model.dsources.delete(dsource.id);
    throw error;
  }
}

export async function listDsources(ctx: ServiceContext) {
  return (await ctx.model.dsources.list()).map(presentDsource);
}

export async function showDsource(ctx: ServiceContext, ref: string) {
  return presentDsource(await ctx.model.dsources.requireFind(ref));
}

async function activeDsource(ctx: ServiceContext, ref: string, doing: string) {
  const dsource = await ctx.model.dsources.requireFind(ref);
  requireState(
    dsource.status === 'ACTIVE',
    `dSource ${dsource.name} is ${dsource.status}, so it cannot ${doing}.`,
    dsource.status === 'FAILED'
      ? `See why with \`dvx run show ${dsource.lastRunId}\`; delete it with \`dvx dsource rm ${dsource.name}\` and link again.`
      : `Wait for run ${dsource.lastRunId} to end (dvx run watch ${dsource.lastRunId}).`,
  );
  return dsource;
}

/** Sync (or resync: ingest everything again) a dSource now. */
export async function syncDsource(ctx: ServiceContext, ref: string, options: { resync?: boolean }, actor: Actor) {
  const dsource = await activeDsource(ctx, ref, 'sync');
  requireState(
    dsource.enabled,
    `dSource ${dsource.name} is disabled.`,
    `Enable it first: dvx dsource enable ${dsource.name}.`,
  );
  await ctx.space.require(`syncing dSource ${dsource.name} (a new snapshot)`);
  const run = await startRun(
    ctx,
    'sync',
    { type: 'dsource', id: dsource.id },
    { dsourceId: dsource.id, pluginType: dsource.pluginType, snapshotParameters: { resync: options.resync ?? false } },
    actor,
  );
  return { dsource: presentDsource(dsource), run };
}

export async function setDsourceEnabled(ctx: ServiceContext, ref: string, enabled: boolean, actor: Actor) {
  const dsource = await activeDsource(ctx, ref, enabled ? 'be enabled' : 'be disabled');
  requireState(
    dsource.enabled !== enabled,
    `dSource ${dsource.name} is already ${enabled ? 'enabled' : 'disabled'}.`,
    'Nothing to do.',
  );
  const run = await startRun(
    ctx,
    enabled ? 'dsource-enable' : 'dsource-disable',
    { type: 'dsource', id: dsource.id },
    { dsourceId: dsource.id, pluginType: dsource.pluginType },
    actor,
  );
  return { dsource: presentDsource(dsource), run };
}

/** Deletes a dSource no VDB was provisioned from: staging stopped, storage and records removed. */
export async function deleteDsource(ctx: ServiceContext, ref: string, actor: Actor) {
  const dsource = await ctx.model.dsources.requireFind(ref);
  refuseIfDependents(
    `dSource ${dsource.name}`,
    await childVdbs(ctx.model, dsource.id),
    'Delete those VDBs first (dvx vdb rm NAME).',
  );
  const snapshots = new Set((await ctx.model.snapshots.listBy('ownerId', dsource.id)).map((snapshot) => snapshot.id));
  const bookmarks = (await ctx.model.bookmarks.list()).filter((bookmark) => snapshots.has(bookmark.snapshotId));
  refuseIfDependents(
    `dSource ${dsource.name}`,
    bookmarks.map((bookmark) => ({ type: 'bookmark' as const, id: bookmark.id, name: bookmark.name })),
    'Remove those bookmarks first (dvx bookmark rm NAME).',
  );
  // A disabled or failed dSource has no staging running or mounted: the delete skips the staged steps.
  const stagingActive = dsource.pluginType === 'STAGED' && dsource.enabled;
  const run = await startRun(
    ctx,
    'dsource-delete',
    { type: 'dsource', id: dsource.id },
    { dsourceId: dsource.id, pluginType: stagingActive ? 'STAGED' : 'DIRECT' },
    actor,
  );
  return { dsource: presentDsource(dsource), run };
}
