import { ConflictError, NotFoundError, ValidationError } from '../errors/index.js';
import { objectKey } from '../model/keys.js';
import type { RunDetail, RunRecord, RunStatus } from '../model/run-record.js';
import type { PruneReport } from '../model/run-store.js';
import { present } from './present.js';
import type { Actor, ServiceContext } from './service-context.js';

/** A run as listed: no machine context. */
export interface RunSummary {
  id: string;
  kind: string;
  status: RunStatus;
  objectType: string;
  objectId: string;
  requestedBy: string;
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
  /** Steps the run is waiting for. */
  currentSteps: string[];
  error?: RunRecord['error'];
}

export function summarize(run: RunRecord): RunSummary {
  return {
    id: run.id,
    kind: run.kind,
    status: run.status,
    objectType: run.objectType,
    objectId: run.objectId,
    requestedBy: run.requestedBy,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    ...(run.endedAt ? { endedAt: run.endedAt } : {}),
    currentSteps: run.pending.map((step) => step.stepId),
    ...(run.error ? { error: run.error } : {}),
  };
}

/** Filters for listing runs. */
export interface RunFilter {
  /** `<type>/<id>` or just an object id with `objectType`. */
  objectType?: string;
  objectId?: string;
  kind?: string;
  status?: RunStatus;
  limit?: number;
  /** Matching runs to skip, newest first. @defaultValue 0 */
  offset?: number;
}

export async function listRuns(ctx: ServiceContext, filter: RunFilter): Promise<RunSummary[]> {
  const runs = await ctx.model.runs.list({
    ...(filter.objectId && filter.objectType ? { objectKey: objectKey(filter.objectType, filter.objectId) } : {}),
    ...(filter.kind ? { kind: filter.kind } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    limit: filter.objectId && !filter.objectType ? 1000 : (filter.limit ?? 50),
    ...(filter.objectId && !filter.objectType ? {} : { offset: filter.offset ?? 0 }),
  });
  const offset = filter.offset ?? 0;
  const matching =
    filter.objectId && !filter.objectType
      ? runs.filter((run) => run.objectId === filter.objectId).slice(offset, offset + (filter.limit ?? 50))
      : runs;
  return matching.map(summarize);
}

/** A run with its timeline: every step with attempts, durations, operation ids and errors, and the transition log. */
export async function showRun(ctx: ServiceContext, runId: string): Promise<RunDetail & { currentSteps: string[] }> {
  const detail = await ctx.model.runs.detail(runId);
  if (!detail) throw new NotFoundError('run', runId, 'List runs with `dvx run list` and use one of their ids.');
  return present({ ...detail, currentSteps: detail.pending.map((step) => step.stepId) });
}

export async function cancelRun(ctx: ServiceContext, runId: string, actor: Actor): Promise<RunSummary> {
  const run = await ctx.model.runs.get(runId);
  if (!run) throw new NotFoundError('run', runId, 'List runs with `dvx run list` and use one of their ids.');
  if (run.status !== 'running')
    throw new ConflictError({
      message: `Run ${runId} has already ${run.status === 'succeeded' ? 'succeeded' : run.status === 'failed' ? 'failed' : 'been cancelled'}; there is nothing to cancel.`,
    });
  await ctx.driver.cancel(runId, actor.name);
  const cancelled = await ctx.model.runs.get(runId);
  if (!cancelled) throw new NotFoundError('run', runId, 'List runs with `dvx run list` and use one of their ids.');
  return summarize(cancelled);
}

const DAY_MS = 86_400_000;

/** How many days an engine keeps a run after it ended, unless told otherwise. */
export const DEFAULT_RUN_RETENTION_DAYS = 30;

/**
 * The run retention the environment asks for: `DVX_RUN_RETENTION_DAYS`, a number of days (fractions allowed),
 * `0` or `off` to keep every run; {@link DEFAULT_RUN_RETENTION_DAYS} when unset. Anything else is refused.
 */
export function runRetentionFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.DVX_RUN_RETENTION_DAYS?.trim();
  if (text === undefined || text === '') return DEFAULT_RUN_RETENTION_DAYS;
  if (text === 'off') return 0;
  const days = Number(text);
  if (!Number.isFinite(days) || days < 0)
    throw new ValidationError(
      `DVX_RUN_RETENTION_DAYS is ${JSON.stringify(text)}, not a number of days.`,
      [{ pointer: '/DVX_RUN_RETENTION_DAYS', message: 'must be a number of days, 0 or off' }],
      { action: 'Set DVX_RUN_RETENTION_DAYS to a number of days (e.g. 30), or to 0 or off to keep every run.' },
    );
  return days;
}

/**
 * Deletes the runs that ended more than `retentionDays` ago (none when it is 0), keeping every run an object's record
 * still names (its last run, a recovery run the health monitor checks): `dvx run show` of those keeps working.
 */
export async function pruneRuns(
  ctx: Pick<ServiceContext, 'model' | 'logger'>,
  retentionDays: number,
  now = Date.now(),
): Promise<PruneReport> {
  if (!(retentionDays > 0)) return { pruned: 0, kept: 0 };
  // Read before pruning: a record names a newer run only when that run is new, so it is never old enough to prune.
  const [vdbs, dsources, environments] = await Promise.all([
    ctx.model.vdbs.list(),
    ctx.model.dsources.list(),
    ctx.model.environments.list(),
  ]);
  const keep = new Set<string>();
  for (const record of [...vdbs, ...dsources, ...environments]) {
    if (record.lastRunId) keep.add(record.lastRunId);
    if (record.runtime?.recoveryRunId) keep.add(record.runtime.recoveryRunId);
  }
  const report = await ctx.model.runs.prune({ endedBefore: new Date(now - retentionDays * DAY_MS), keep });
  if (report.pruned > 0) ctx.logger.info({ ...report, retentionDays }, 'pruned old runs');
  return report;
}
