import { ConflictError, NotFoundError } from '../errors/index.js';
import { objectKey } from '../model/keys.js';
import type { RunDetail, RunRecord, RunStatus } from '../model/run-record.js';
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
