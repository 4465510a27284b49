import { ValidationError } from '../errors/index.js';
import { childVdbs, refuseIfDependents, snapshotDependents, type Dependent } from '../model/dependencies.js';
import { hookIdOf } from '../model/hook.js';
import { newId, newRunId } from '../model/ids.js';
import type { VdbRecord } from '../model/vdb.js';
import { sealPluginData } from '../model/plugin-data.js';
import { refuseIfBookmarked, resolveSnapshotRef } from './bookmarks.js';
import { checkMountParameters, checkMountParametersOnHost, checkName } from './dsources.js';
import { requireState } from './object-state.js';
import { validatePluginData } from './plugin-data.js';
import { present } from './present.js';
import type { RunSummary } from './runs.js';
import type { Actor, ServiceContext } from './service-context.js';
import { latestSnapshot } from './snapshots.js';
import { startRun } from './start-run.js';

/** What `dvx vdb provision` / POST /vdbs takes. */
export interface ProvisionRequest {
  name: string;
  /** The dSource or VDB to provision from (id or name). */
  source: string;
  /** A snapshot of the source. @defaultValue its newest snapshot */
  snapshot?: string;
  /** Target environment (id or name). */
  environment: string;
  /** Repository on the target. @defaultValue the plugin's only repository there */
  repository?: string;
  /** The plugin's virtualSourceDefinition data. @defaultValue {} */
  parameters?: Record<string, unknown>;
  /** Hook scripts by event (configureClone runs during this provision). @defaultValue none */
  hooks?: Record<string, string>;
}

export const presentVdb = (vdb: VdbRecord) => present(vdb);

async function findSource(ctx: ServiceContext, ref: string) {
  const dsource = await ctx.model.dsources.find(ref);
  if (dsource)
    return {
      type: 'dsource' as const,
      id: dsource.id,
      name: dsource.name,
      pluginId: dsource.pluginId,
      currentTimeflowId: dsource.currentTimeflowId,
      ready: dsource.status === 'ACTIVE',
    };
  const vdb = await ctx.model.vdbs.find(ref);
  if (vdb)
    return {
      type: 'vdb' as const,
      id: vdb.id,
      name: vdb.name,
      pluginId: vdb.pluginId,
      currentTimeflowId: vdb.currentTimeflowId,
      ready: vdb.status === 'READY',
    };
  throw new ValidationError(
    `No dSource or VDB "${ref}" to provision from.`,
    [{ pointer: '/source', message: 'no such dSource or VDB' }],
    { action: 'See `dvx dsource list` and `dvx vdb list`.' },
  );
}

/** Provisions a VDB: the record, then a provision run (clone, mount, configure, first snapshot). */
export async function provisionVdb(
  ctx: ServiceContext,
  request: ProvisionRequest,
  actor: Actor,
): Promise<{ vdb: VdbRecord; run: RunSummary }> {
  const { model } = ctx;
  checkName(request.name, 'VDB');
  const source = await findSource(ctx, request.source);
  let snapshotId: string;
  if (request.snapshot) {
    const snapshot = await model.snapshots.get(await resolveSnapshotRef(ctx, request.snapshot));
    if (!snapshot || snapshot.ownerId !== source.id)
      throw new ValidationError(
        `${source.name} has no snapshot "${request.snapshot}".`,
        [{ pointer: '/snapshot', message: 'not a snapshot of the source' }],
        { action: `See \`dvx snapshot list --of ${source.name}\`.` },
      );
    snapshotId = snapshot.id;
  } else {
    const latest = await latestSnapshot(ctx, source.id, source.currentTimeflowId);
    if (!latest)
      throw new ValidationError(
        `${source.name} has no snapshot to provision from yet.`,
        [{ pointer: '/source', message: 'no snapshot' }],
        { action: 'Wait for its link or sync to finish, or take a snapshot.' },
      );
    snapshotId = latest.id;
  }
  const environment = await model.environments.find(request.environment);
  if (!environment)
    throw new ValidationError(
      `No environment "${request.environment}".`,
      [{ pointer: '/environment', message: 'no such environment' }],
      { action: 'See `dvx env list`, or add one with `dvx env add`.' },
    );
  const repositories = (await model.repositories.listBy('environmentId', environment.id)).filter(
    (repository) => repository.pluginId === source.pluginId,
  );
  const repository = request.repository
    ? repositories.find((candidate) => candidate.id === request.repository || candidate.name === request.repository)
    : repositories.length === 1
      ? repositories[0]
      : undefined;
  if (!repository) {
    throw new ValidationError(
      request.repository
        ? `Environment ${environment.name} has no repository "${request.repository}" for this plugin.`
        : repositories.length
          ? `Environment ${environment.name} has several repositories for this plugin; say which.`
          : `Environment ${environment.name} has no repository for plugin ${source.pluginId}.`,
      [
        {
          pointer: '/repository',
          message: request.repository
            ? 'no such repository on the environment'
            : repositories.length
              ? 'ambiguous'
              : 'none found',
        },
      ],
      {
        action: repositories.length
          ? `Use one of: ${repositories.map((r) => r.id).join(', ')}.`
          : `Refresh the environment (dvx env refresh ${environment.name}) after installing the plugin.`,
      },
    );
  }
  const artifact = await model.pluginArtifact(source.pluginId);
  const parameters = request.parameters ?? {};
  validatePluginData(artifact, 'virtualSourceDefinition', parameters, '/parameters');
  checkMountParameters(artifact, 'virtualSourceDefinition', parameters);
  await checkMountParametersOnHost(ctx, environment, artifact, 'virtualSourceDefinition', parameters);
  await ctx.space.require(`provisioning VDB ${request.name}`);
  const runId = newRunId();
  const vdb = await model.vdbs.create({
    id: newId('vdb'),
    name: request.name,
    pluginId: source.pluginId,
    parentType: source.type,
    parentId: source.id,
    provisionedFromSnapshotId: snapshotId,
    environmentId: environment.id,
    repositoryId: repository.id,
    parameters: sealPluginData(ctx, artifact, 'virtualSourceDefinition', parameters),
    sourceConfig: null,
    currentTimeflowId: null,
    mounts: null,
    ownership: null,
    status: 'PROVISIONING',
    enabled: false,
    running: false,
    lastRunId: runId,
    lastError: null,
  });
  try {
    for (const [event, script] of Object.entries(request.hooks ?? {}))
      await model.hooks.create({ id: hookIdOf(vdb.id, event), objectType: 'vdb', objectId: vdb.id, event, script });
    const run = await startRun(
      ctx,
      'provision',
      { type: 'vdb', id: vdb.id },
      { vdbId: vdb.id, snapshotId },
      actor,
      runId,
    );
    return { vdb: presentVdb(vdb), run };
  } catch (error) {
    for (const hook of await model.hooks.listBy('objectId', vdb.id)) await model.hooks.delete(hook.id);
    await model.vdbs.delete(vdb.id);
    throw error;
  }
}

/** A page of {@link listVdbs}: without a limit, every VDB from `offset` on. */
export interface VdbPage {
  limit?: number;
  /** VDBs to skip, oldest first. @defaultValue 0 */
  offset?: number;
}

/** VDBs oldest first; only the page asked for is presented (with 1,000 VDBs, presenting them all is the cost). */
export async function listVdbs(ctx: ServiceContext, page: VdbPage = {}) {
  const offset = page.offset ?? 0;
  const vdbs = await ctx.model.vdbs.list();
  return vdbs.slice(offset, page.limit === undefined ? undefined : offset + page.limit).map(presentVdb);
}

export async function showVdb(ctx: ServiceContext, ref: string) {
  return presentVdb(await ctx.model.vdbs.requireFind(ref));
}

async function readyVdb(ctx: ServiceContext, ref: string, doing: string) {
  const vdb = await ctx.model.vdbs.requireFind(ref);
  requireState(
    vdb.status === 'READY',
    `VDB ${vdb.name} is ${vdb.status}, so it cannot ${doing}.`,
    vdb.status === 'FAILED'
      ? `See why with \`dvx run show ${vdb.lastRunId}\`, then delete it (dvx vdb rm ${vdb.name}).`
      : `Wait for run ${vdb.lastRunId} to end (dvx run watch ${vdb.lastRunId}).`,
  );
  return vdb;
}

function requireEnabled(vdb: VdbRecord, doing: string) {
  requireState(
    vdb.enabled,
    `VDB ${vdb.name} is disabled, so it cannot ${doing}.`,
    `Enable it first: dvx vdb enable ${vdb.name}.`,
  );
}

/** Why a start or stop has nothing to do: what the host said last. */
function nothingToDo(vdb: VdbRecord): string {
  const runtime = vdb.runtime;
  if (!runtime) return 'Nothing to do.';
  return `Nothing to do: health checks have found it ${runtime.state} since ${runtime.since}${runtime.reason ? ` (${runtime.reason})` : ''}; the next check records a change.`;
}

type VdbAction = 'start' | 'stop' | 'enable' | 'disable' | 'snapshot';

/** Start, stop, enable, disable or snapshot a VDB. */
export async function vdbAction(ctx: ServiceContext, ref: string, action: VdbAction, actor: Actor) {
  const vdb = await readyVdb(ctx, ref, action);
  if (action === 'enable') requireState(!vdb.enabled, `VDB ${vdb.name} is already enabled.`, 'Nothing to do.');
  else if (action === 'disable') requireState(vdb.enabled, `VDB ${vdb.name} is already disabled.`, 'Nothing to do.');
  else requireEnabled(vdb, action);
  // `running` is what the last run did, then what the plugin's status says at each health check.
  if (action === 'start') requireState(!vdb.running, `VDB ${vdb.name} is already running.`, nothingToDo(vdb));
  if (action === 'stop') requireState(vdb.running, `VDB ${vdb.name} is already stopped.`, nothingToDo(vdb));
  const input: Record<string, unknown> = { vdbId: vdb.id };
  if (action === 'snapshot') {
    await ctx.space.require(`a snapshot of VDB ${vdb.name}`);
    input.datasetId = vdb.currentTimeflowId;
  }
  const run = await startRun(ctx, `vdb-${action}`, { type: 'vdb', id: vdb.id }, input, actor);
  return { vdb: presentVdb(vdb), run };
}

/** Rewinds a VDB to one of its own snapshots (on any of its timeflows): a new timeflow; the current one stays. */
export async function rewindVdb(ctx: ServiceContext, ref: string, request: { snapshot: string }, actor: Actor) {
  const vdb = await readyVdb(ctx, ref, 'rewind');
  requireEnabled(vdb, 'rewind');
  const snapshot = await ctx.model.snapshots.get(await resolveSnapshotRef(ctx, request.snapshot));
  if (!snapshot || snapshot.ownerId !== vdb.id)
    throw new ValidationError(
      `VDB ${vdb.name} has no snapshot "${request.snapshot}".`,
      [{ pointer: '/snapshot', message: 'not a snapshot of this VDB' }],
      { action: `See \`dvx snapshot list --of ${vdb.name}\`.` },
    );
  // A rewind clones the snapshot as a new timeflow and snapshots it.
  await ctx.space.require(`rewinding VDB ${vdb.name}`);
  const run = await startRun(
    ctx,
    'vdb-rewind',
    { type: 'vdb', id: vdb.id },
    { vdbId: vdb.id, snapshotId: snapshot.id, previousDatasetId: vdb.currentTimeflowId },
    actor,
  );
  return { vdb: presentVdb(vdb), run };
}

/** Refreshes a VDB from a snapshot of its parent (default the newest): a new timeflow; older ones stay. */
export async function refreshVdb(ctx: ServiceContext, ref: string, request: { snapshot?: string }, actor: Actor) {
  const vdb = await readyVdb(ctx, ref, 'refresh');
  requireEnabled(vdb, 'refresh');
  const parent =
    vdb.parentType === 'dsource'
      ? await ctx.model.dsources.require(vdb.parentId)
      : await ctx.model.vdbs.require(vdb.parentId);
  let snapshotId: string;
  if (request.snapshot) {
    const snapshot = await ctx.model.snapshots.get(await resolveSnapshotRef(ctx, request.snapshot));
    if (!snapshot || snapshot.ownerId !== parent.id)
      throw new ValidationError(
        `${parent.name} (the parent of ${vdb.name}) has no snapshot "${request.snapshot}".`,
        [{ pointer: '/snapshot', message: "not a snapshot of the VDB's parent" }],
        { action: `See \`dvx snapshot list --of ${parent.name}\`.` },
      );
    snapshotId = snapshot.id;
  } else {
    const latest = await latestSnapshot(ctx, parent.id, parent.currentTimeflowId);
    if (!latest)
      throw new ValidationError(
        `${parent.name} has no snapshot to refresh from.`,
        [{ pointer: '/snapshot', message: 'no snapshot' }],
        { action: `Sync it first.` },
      );
    snapshotId = latest.id;
  }
  // A refresh clones the snapshot as a new timeflow and snapshots it.
  await ctx.space.require(`refreshing VDB ${vdb.name}`);
  const run = await startRun(
    ctx,
    'vdb-refresh',
    { type: 'vdb', id: vdb.id },
    { vdbId: vdb.id, snapshotId, previousDatasetId: vdb.currentTimeflowId },
    actor,
  );
  return { vdb: presentVdb(vdb), run };
}

/** Deletes a VDB nothing depends on: unconfigure, cleanup, unmount, destroy its storage and records. */
export async function deleteVdb(ctx: ServiceContext, ref: string, actor: Actor) {
  const vdb = await ctx.model.vdbs.requireFind(ref);
  const dependents: Dependent[] = [...(await childVdbs(ctx.model, vdb.id))];
  for (const snapshot of await ctx.model.snapshots.listBy('ownerId', vdb.id)) {
    for (const dependent of await snapshotDependents(ctx.model, snapshot.id))
      if (dependent.owner?.id !== vdb.id) dependents.push(dependent);
  }
  refuseIfDependents(`VDB ${vdb.name}`, dependents, 'Delete the VDBs provisioned from it first.');
  for (const snapshot of await ctx.model.snapshots.listBy('ownerId', vdb.id))
    await refuseIfBookmarked(ctx, snapshot.id, `VDB ${vdb.name}: its snapshot ${snapshot.id}`);
  const run = await startRun(ctx, 'vdb-delete', { type: 'vdb', id: vdb.id }, { vdbId: vdb.id }, actor);
  return { vdb: presentVdb(vdb), run };
}
