import { ConflictError, isDvxError, NotFoundError, toDvxError, ValidationError } from '../errors/index.js';
import { newId } from '../model/ids.js';
import { DEFAULT_RETENTION_SCHEDULE, POLICY_FIRE_HISTORY, POLICY_TYPES, type PolicyFire, type PolicyRecord, type PolicySchedule, type PolicyTarget, type PolicyType, type RetentionRule } from '../model/policy.js';
import type { VdbRecord } from '../model/vdb.js';
import { nextCronFires, policyQueue, policySchedulerId, policySchedulerIds, policySchedulerNext, removePolicyScheduler, upsertPolicyScheduler, type PolicyFireJobData } from '../workers/policy-queue.js';
import { findDatasetObject, type DatasetObject } from './dataset-object.js';
import { checkName } from './dsources.js';
import { requireState } from './object-state.js';
import { present } from './present.js';
import { applyRetention, describeRetention } from './retention.js';
import type { Actor, ServiceContext } from './service-context.js';
import { startRun } from './start-run.js';
import { refreshVdb, vdbAction } from './vdbs.js';

/** What `dvx policy create` / POST /policies takes. */
export interface CreatePolicyRequest {
  name: string;
  type: PolicyType;
  /** When it fires. Required except for RETENTION. @defaultValue RETENTION: every hour, UTC */
  schedule?: { cron: string; timeZone?: string };
  /** RETENTION only: at least one of keepCount and keepDays. */
  retention?: { keepCount?: number | null; keepDays?: number | null };
  /** dSources and VDBs (ids or names) to apply it to at once. @defaultValue none */
  targets?: string[];
}

/** What PATCH /policies/:ref takes: only the given parts change. */
export interface UpdatePolicyRequest {
  schedule?: { cron: string; timeZone?: string };
  retention?: { keepCount?: number | null; keepDays?: number | null };
}

/** What a policy does on which kinds of object. */
const TARGET_TYPES: Record<PolicyType, readonly ('dsource' | 'vdb')[]> = {
  SNAPSYNC: ['dsource'],
  VDB_SNAPSHOT: ['vdb'],
  REFRESH: ['vdb'],
  RETENTION: ['dsource', 'vdb'],
};

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Checks a cron expression and time zone the way the job scheduler will read them. */
export function validateSchedule(schedule: { cron?: unknown; timeZone?: unknown } | undefined, pointer = '/schedule'): PolicySchedule {
  if (!schedule || typeof schedule.cron !== 'string' || schedule.cron.trim() === '') {
    throw new ValidationError('A policy needs a schedule: a cron expression.', [{ pointer: `${pointer}/cron`, message: 'required' }], { action: 'Give e.g. --cron "0 2 * * *" (02:00 every day) and --tz Europe/Paris.' });
  }
  const timeZone = typeof schedule.timeZone === 'string' && schedule.timeZone !== '' ? schedule.timeZone : 'UTC';
  if (!isTimeZone(timeZone)) {
    throw new ValidationError(`"${timeZone}" is not an IANA time zone.`, [{ pointer: `${pointer}/timeZone`, message: 'unknown time zone' }], { action: 'Give a zone like UTC, Europe/Paris or America/New_York.' });
  }
  const cron = schedule.cron.trim();
  let fires: number[];
  try {
    fires = nextCronFires({ cron, timeZone }, 2);
  } catch (error) {
    throw new ValidationError(`Cron expression "${cron}" is invalid: ${(error as Error).message}.`, [{ pointer: `${pointer}/cron`, message: (error as Error).message }], {
      action: 'Use 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; e.g. "0 2 * * *" or "*/30 * * * * *".',
    });
  }
  if (fires.length === 0) throw new ValidationError(`Cron expression "${cron}" never fires.`, [{ pointer: `${pointer}/cron`, message: 'never fires' }], { action: 'Check the day and month fields.' });
  return { cron, timeZone };
}

function validateRetention(retention: CreatePolicyRequest['retention'], pointer = '/retention'): RetentionRule {
  const keepCount = retention?.keepCount ?? null;
  const keepDays = retention?.keepDays ?? null;
  if (keepCount === null && keepDays === null) {
    throw new ValidationError('A RETENTION policy needs keepCount, keepDays or both.', [{ pointer, message: 'at least one of keepCount and keepDays is required' }], { action: 'Give e.g. --keep-count 10 and/or --keep-days 7.' });
  }
  if (keepCount !== null && !(Number.isInteger(keepCount) && keepCount >= 0)) throw new ValidationError(`keepCount ${keepCount} is not a whole number of snapshots.`, [{ pointer: `${pointer}/keepCount`, message: 'an integer >= 0' }], { action: 'Give a count like 10.' });
  if (keepDays !== null && !(Number.isFinite(keepDays) && keepDays > 0)) throw new ValidationError(`keepDays ${keepDays} is not a positive number of days.`, [{ pointer: `${pointer}/keepDays`, message: 'a number > 0' }], { action: 'Give a number of days like 7 (fractions allowed: 0.5 is 12 hours).' });
  return { keepCount, keepDays };
}

/** The policy, or NOT_FOUND. */
async function requirePolicy(ctx: ServiceContext, ref: string): Promise<PolicyRecord> {
  const policy = await ctx.model.policies.find(ref);
  if (!policy) throw new NotFoundError('policy', ref, 'See `dvx policy list`.');
  return policy;
}

const objectLabel = (object: { type: 'dsource' | 'vdb'; name: string }) => `${object.type === 'vdb' ? 'VDB' : 'dSource'} "${object.name}"`;

async function objectName(ctx: ServiceContext, target: PolicyTarget): Promise<string | null> {
  const record = target.type === 'vdb' ? await ctx.model.vdbs.get(target.id) : await ctx.model.dsources.get(target.id);
  return record?.name ?? null;
}

/** Resolves a target reference and checks the policy type applies to it. */
async function resolveTarget(ctx: ServiceContext, type: PolicyType, ref: string, pointer: string): Promise<DatasetObject> {
  let object: DatasetObject;
  try {
    object = await findDatasetObject(ctx, ref);
  } catch (error) {
    if (isDvxError(error) && error.code === 'NOT_FOUND') throw new ValidationError(`No dSource or VDB "${ref}".`, [{ pointer, message: 'no such dSource or VDB' }], { action: 'See `dvx dsource list` and `dvx vdb list`.' });
    throw error;
  }
  if (!TARGET_TYPES[type].includes(object.type)) {
    throw new ValidationError(`A ${type} policy cannot apply to ${objectLabel(object)}: it applies to ${TARGET_TYPES[type].map((t) => (t === 'vdb' ? 'VDBs' : 'dSources')).join(' and ')} only.`, [{ pointer, message: `not a ${TARGET_TYPES[type].join(' or ')}` }], {
      action: type === 'SNAPSYNC' ? 'Use a VDB_SNAPSHOT policy for VDBs.' : 'Use a SNAPSYNC policy for dSources.',
    });
  }
  return object;
}

/** Refuses a second policy of the same type on one object. */
function refuseSameType(all: PolicyRecord[], policy: { id: string; name: string; type: PolicyType }, object: DatasetObject): void {
  const other = all.find((candidate) => candidate.id !== policy.id && candidate.type === policy.type && candidate.targets.some((target) => target.id === object.id));
  if (!other) return;
  throw new ConflictError({
    message: `${objectLabel(object)} already has a ${policy.type} policy ("${other.name}"); an object takes one policy of each type.`,
    action: `Remove it from that policy first (dvx policy unapply ${other.name} ${object.name}), or change that policy instead.`,
    details: { policyId: other.id, policyName: other.name, objectId: object.id },
  });
}

/** The mean time between the next fires of a schedule, in ms. */
function meanInterval(schedule: PolicySchedule): number {
  const fires = nextCronFires(schedule, 12);
  if (fires.length < 2) return Number.POSITIVE_INFINITY;
  return (fires.at(-1)! - fires[0]!) / (fires.length - 1);
}

export function formatInterval(ms: number): string {
  if (!Number.isFinite(ms)) return 'never';
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'min'], [1_000, 's']];
  for (const [size, unit] of units) if (ms >= size) return `${Math.round((ms / size) * 10) / 10} ${unit}`;
  return `${Math.round(ms)} ms`;
}

/**
 * Warnings about combinations of policies that cannot work on the objects around `objectIds` (the objects, their
 * parent and child VDBs): a REFRESH policy firing more often than the parent's snapshot policy (or a parent with
 * none), and a RETENTION on the parent that prunes snapshots faster than the REFRESH comes to use them.
 */
export async function policyWarnings(ctx: ServiceContext, all: PolicyRecord[], objectIds: string[]): Promise<string[]> {
  const { model } = ctx;
  const on = (id: string, type: PolicyType) => all.find((policy) => policy.type === type && policy.targets.some((target) => target.id === id));
  const vdbs = new Map<string, VdbRecord>();
  for (const id of objectIds) {
    const vdb = await model.vdbs.get(id);
    if (vdb) vdbs.set(vdb.id, vdb);
    for (const child of await model.vdbs.listBy('parentId', id)) vdbs.set(child.id, child);
  }
  const warnings: string[] = [];
  for (const vdb of vdbs.values()) {
    const refresh = on(vdb.id, 'REFRESH');
    if (!refresh) continue;
    const parent = vdb.parentType === 'vdb' ? await model.vdbs.get(vdb.parentId) : await model.dsources.get(vdb.parentId);
    if (!parent) continue;
    const parentLabel = objectLabel({ type: vdb.parentType, name: parent.name });
    const snapshotType: PolicyType = vdb.parentType === 'vdb' ? 'VDB_SNAPSHOT' : 'SNAPSYNC';
    const snapshotPolicy = on(parent.id, snapshotType);
    const refreshEvery = meanInterval(refresh.schedule);
    if (!snapshotPolicy) {
      warnings.push(`REFRESH policy "${refresh.name}" on VDB "${vdb.name}": its parent ${parentLabel} has no ${snapshotType} policy, so scheduled refreshes reuse the same snapshot until someone takes a new one.`);
    } else {
      const snapshotEvery = meanInterval(snapshotPolicy.schedule);
      if (refreshEvery < snapshotEvery) {
        warnings.push(`REFRESH policy "${refresh.name}" on VDB "${vdb.name}" fires every ~${formatInterval(refreshEvery)}, more often than ${snapshotType} policy "${snapshotPolicy.name}" on its parent ${parentLabel} (every ~${formatInterval(snapshotEvery)}): most refreshes will find no new snapshot and only discard the VDB's changes.`);
      }
    }
    const retention = on(parent.id, 'RETENTION');
    if (retention?.retention) {
      const { keepCount, keepDays } = retention.retention;
      const keptFor = (keepDays ?? 0) * 86_400_000;
      if ((keepCount ?? 0) <= 1 && keptFor < refreshEvery) {
        warnings.push(`RETENTION policy "${retention.name}" on ${parentLabel} keeps only ${describeRetention(retention.retention)}, less than the ~${formatInterval(refreshEvery)} between fires of REFRESH policy "${refresh.name}" on VDB "${vdb.name}": every snapshot but the newest is deleted before a refresh can use it.`);
      }
    }
  }
  return [...new Set(warnings)];
}

async function schedulersFor(ctx: ServiceContext, policy: PolicyRecord): Promise<void> {
  for (const target of policy.targets) {
    if (policy.paused) await removePolicyScheduler(ctx.model.redis, policy.id, target.id);
    else await upsertPolicyScheduler(ctx.model.redis, policy.schedule, { policyId: policy.id, objectType: target.type, objectId: target.id });
  }
}

/** A policy as the API shows it: each target with its name and next fire times (from its job scheduler). */
export async function presentPolicy(ctx: ServiceContext, policy: PolicyRecord, upcoming = 3) {
  const targets = await Promise.all(
    policy.targets.map(async (target) => {
      const next = policy.paused ? null : await policySchedulerNext(ctx.model.redis, policy.id, target.id);
      const later = next === null ? [] : nextCronFires(policy.schedule, Math.max(upcoming - 1, 0), next);
      return { ...target, name: await objectName(ctx, target), schedulerId: policySchedulerId(policy.id, target.id), nextFires: next === null ? [] : [next, ...later].map((at) => new Date(at).toISOString()) };
    }),
  );
  const nexts = targets.map((target) => target.nextFires[0]).filter((at): at is string => Boolean(at)).sort();
  return present({ ...policy, targets, nextFire: nexts[0] ?? null });
}

/** Creates a policy, applied at once to `targets`; answers with warnings about combinations that cannot work. */
export async function createPolicy(ctx: ServiceContext, request: CreatePolicyRequest, actor: Actor) {
  checkName(request.name, 'Policy');
  if (!POLICY_TYPES.includes(request.type)) throw new ValidationError(`Unknown policy type "${request.type}".`, [{ pointer: '/type', message: `one of ${POLICY_TYPES.join(', ')}` }], { action: `Use one of ${POLICY_TYPES.join(', ')}.` });
  const schedule = request.type === 'RETENTION' && !request.schedule ? DEFAULT_RETENTION_SCHEDULE : validateSchedule(request.schedule);
  if (request.type !== 'RETENTION' && request.retention) throw new ValidationError(`Only RETENTION policies take retention rules, not ${request.type}.`, [{ pointer: '/retention', message: 'not allowed for this type' }], { action: 'Leave out the retention rules, or create a RETENTION policy.' });
  const retention = request.type === 'RETENTION' ? validateRetention(request.retention) : null;
  const existing = await ctx.model.policies.byName(request.name);
  if (existing) throw new ValidationError(`A policy named "${request.name}" already exists (${existing.id}).`, [{ pointer: '/name', message: 'already taken' }], { action: 'Choose another name, or change that policy (dvx policy update).' });
  const all = await ctx.model.policies.list();
  const id = newId('pol');
  const targets: PolicyTarget[] = [];
  for (const [index, ref] of (request.targets ?? []).entries()) {
    const object = await resolveTarget(ctx, request.type, ref, `/targets/${index}`);
    refuseSameType(all, { id, name: request.name, type: request.type }, object);
    if (!targets.some((target) => target.id === object.id)) targets.push({ type: object.type, id: object.id });
  }
  const policy = await ctx.model.policies.create({ id, name: request.name, type: request.type, schedule, retention, targets, paused: false, lastFires: [], createdBy: actor.name });
  await schedulersFor(ctx, policy);
  const warnings = await policyWarnings(ctx, [...all, policy], targets.map((target) => target.id));
  return { policy: await presentPolicy(ctx, policy), warnings };
}

export async function listPolicies(ctx: ServiceContext) {
  return Promise.all((await ctx.model.policies.list()).map((policy) => presentPolicy(ctx, policy, 1)));
}

export async function showPolicy(ctx: ServiceContext, ref: string) {
  const policy = await requirePolicy(ctx, ref);
  const warnings = await policyWarnings(ctx, await ctx.model.policies.list(), policy.targets.map((target) => target.id));
  return { policy: await presentPolicy(ctx, policy, 5), warnings };
}

/** Changes a policy's schedule or retention rules; its job schedulers follow. */
export async function updatePolicy(ctx: ServiceContext, ref: string, request: UpdatePolicyRequest) {
  const current = await requirePolicy(ctx, ref);
  const schedule = request.schedule ? validateSchedule(request.schedule) : current.schedule;
  if (request.retention && current.type !== 'RETENTION') throw new ValidationError(`Only RETENTION policies take retention rules; "${current.name}" is ${current.type}.`, [{ pointer: '/retention', message: 'not allowed for this type' }], { action: 'Leave out the retention rules.' });
  const retention = request.retention ? validateRetention({ ...current.retention, ...request.retention }) : current.retention;
  const policy = await ctx.model.policies.update(current.id, () => ({ schedule, retention }));
  await schedulersFor(ctx, policy);
  const warnings = await policyWarnings(ctx, await ctx.model.policies.list(), policy.targets.map((target) => target.id));
  return { policy: await presentPolicy(ctx, policy), warnings };
}

/** Deletes a policy and every job scheduler it had. */
export async function deletePolicy(ctx: ServiceContext, ref: string) {
  const policy = await requirePolicy(ctx, ref);
  for (const target of policy.targets) await removePolicyScheduler(ctx.model.redis, policy.id, target.id);
  await ctx.model.policies.delete(policy.id);
  return { deleted: present(policy) };
}

/** Applies a policy to a dSource or VDB: one job scheduler for the pair. Refuses a second policy of the same type. */
export async function applyPolicy(ctx: ServiceContext, ref: string, objectRef: string) {
  const current = await requirePolicy(ctx, ref);
  const object = await resolveTarget(ctx, current.type, objectRef, '/object');
  const all = await ctx.model.policies.list();
  refuseSameType(all, current, object);
  const policy = current.targets.some((target) => target.id === object.id) ? current : await ctx.model.policies.update(current.id, (latest) => ({ targets: latest.targets.some((target) => target.id === object.id) ? latest.targets : [...latest.targets, { type: object.type, id: object.id }] }));
  await schedulersFor(ctx, policy);
  const warnings = await policyWarnings(ctx, all.map((candidate) => (candidate.id === policy.id ? policy : candidate)), [object.id]);
  return { policy: await presentPolicy(ctx, policy), warnings };
}

/** Takes a policy off an object (its job scheduler goes). */
export async function unapplyPolicy(ctx: ServiceContext, ref: string, objectRef: string) {
  const current = await requirePolicy(ctx, ref);
  const target = current.targets.find((candidate) => candidate.id === objectRef) ?? (await findDatasetObject(ctx, objectRef).then((object) => current.targets.find((candidate) => candidate.id === object.id)).catch(() => undefined));
  requireState(Boolean(target), `Policy ${current.name} is not applied to "${objectRef}".`, `It is applied to: ${current.targets.map((t) => t.id).join(', ') || 'nothing'}.`);
  await removePolicyScheduler(ctx.model.redis, current.id, target!.id);
  const policy = await ctx.model.policies.update(current.id, (latest) => ({ targets: latest.targets.filter((candidate) => candidate.id !== target!.id) }));
  return { policy: await presentPolicy(ctx, policy), warnings: [] as string[] };
}

/** Pauses (removes the job schedulers: nothing fires) or resumes (schedulers back, next fire from now) a policy. */
export async function setPolicyPaused(ctx: ServiceContext, ref: string, paused: boolean) {
  const current = await requirePolicy(ctx, ref);
  requireState(current.paused !== paused, `Policy ${current.name} is already ${paused ? 'paused' : 'active'}.`, 'Nothing to do.');
  const policy = await ctx.model.policies.update(current.id, () => ({ paused }));
  await schedulersFor(ctx, policy);
  const warnings = paused ? [] : await policyWarnings(ctx, await ctx.model.policies.list(), policy.targets.map((target) => target.id));
  return { policy: await presentPolicy(ctx, policy), warnings };
}

/**
 * Makes the job schedulers match the policy records: one per applied target of each active policy, none else.
 * Run at engine start (a scheduler lost with a Redis restore, or left by a deleted policy, is put right).
 */
export async function reconcilePolicySchedulers(ctx: ServiceContext): Promise<{ upserted: number; removed: number }> {
  const expected = new Set<string>();
  let upserted = 0;
  for (const policy of await ctx.model.policies.list()) {
    if (policy.paused) continue;
    for (const target of policy.targets) {
      expected.add(policySchedulerId(policy.id, target.id));
      await upsertPolicyScheduler(ctx.model.redis, policy.schedule, { policyId: policy.id, objectType: target.type, objectId: target.id });
      upserted += 1;
    }
  }
  let removed = 0;
  for (const id of await policySchedulerIds(ctx.model.redis)) {
    if (expected.has(id)) continue;
    await policyQueue(ctx.model.redis).removeJobScheduler(id);
    removed += 1;
  }
  return { upserted, removed };
}

async function recordFire(ctx: ServiceContext, policyId: string, fire: PolicyFire): Promise<void> {
  await ctx.model.policies.update(policyId, (latest) => ({ lastFires: [fire, ...latest.lastFires].slice(0, POLICY_FIRE_HISTORY) })).catch((error: unknown) => {
    if (!(isDvxError(error) && error.code === 'NOT_FOUND')) throw error;
  });
}

/** Does what a policy does on one object, once. Throws what the service layer refuses with. */
async function act(ctx: ServiceContext, policy: PolicyRecord, object: DatasetObject, actor: Actor): Promise<Omit<PolicyFire, 'at' | 'objectType' | 'objectId'>> {
  switch (policy.type) {
    case 'SNAPSYNC': {
      const dsource = await ctx.model.dsources.require(object.id);
      requireState(dsource.status === 'ACTIVE', `dSource ${dsource.name} is ${dsource.status}, so it cannot sync.`, 'The next fire tries again.');
      requireState(dsource.enabled, `dSource ${dsource.name} is disabled, so it cannot sync.`, `Enable it (dvx dsource enable ${dsource.name}) or pause the policy.`);
      // Policy-driven syncs pass null snapshot parameters, as the vSDK says.
      const run = await startRun(ctx, 'sync', { type: 'dsource', id: dsource.id }, { dsourceId: dsource.id, pluginType: dsource.pluginType, snapshotParameters: null }, actor);
      return { outcome: 'started', runId: run.id };
    }
    case 'VDB_SNAPSHOT':
      return { outcome: 'started', runId: (await vdbAction(ctx, object.id, 'snapshot', actor)).run.id };
    case 'REFRESH':
      return { outcome: 'started', runId: (await refreshVdb(ctx, object.id, {}, actor)).run.id };
    case 'RETENTION': {
      const outcome = await applyRetention(ctx, object, policy.retention!);
      return { outcome: 'pruned', deleted: outcome.deleted, kept: outcome.kept.slice(-200) };
    }
  }
}

/**
 * One fire of a policy's job scheduler on one object: starts its run (actor `policy:<name>`) or applies retention.
 * A fire on an object another run holds is skipped and recorded, never queued behind that run; a fire whose
 * policy or object is gone removes its own scheduler.
 */
export async function firePolicy(ctx: ServiceContext, data: PolicyFireJobData): Promise<PolicyFire | { outcome: 'dropped'; reason: string }> {
  const policy = await ctx.model.policies.get(data.policyId);
  const target = policy?.targets.find((candidate) => candidate.id === data.objectId);
  if (!policy || !target) {
    await removePolicyScheduler(ctx.model.redis, data.policyId, data.objectId);
    return { outcome: 'dropped', reason: policy ? 'the policy is no longer applied to this object' : 'the policy no longer exists' };
  }
  if (policy.paused) return { outcome: 'dropped', reason: 'the policy is paused' };
  const base = { at: new Date().toISOString(), objectType: data.objectType, objectId: data.objectId };
  const name = await objectName(ctx, target);
  if (name === null) {
    await removePolicyScheduler(ctx.model.redis, policy.id, target.id);
    await ctx.model.policies.update(policy.id, (latest) => ({ targets: latest.targets.filter((candidate) => candidate.id !== target.id) }));
    const fire: PolicyFire = { ...base, outcome: 'skipped', reason: `${target.type === 'vdb' ? 'VDB' : 'dSource'} ${target.id} no longer exists; the policy was taken off it` };
    await recordFire(ctx, policy.id, fire);
    return fire;
  }
  let fire: PolicyFire;
  try {
    fire = { ...base, ...(await act(ctx, policy, { type: target.type, id: target.id, name }, { name: `policy:${policy.name}` })) };
  } catch (raw) {
    const error = toDvxError(raw);
    if (error.code === 'OBJECT_LOCKED') {
      const heldBy = (error.details as { runId?: string } | undefined)?.runId;
      fire = { ...base, outcome: 'skipped', reason: error.message, ...(heldBy ? { heldBy } : {}) };
    } else if (['CONFLICT', 'VALIDATION_FAILED', 'NOT_FOUND', 'HAS_DEPENDENTS'].includes(error.code)) {
      fire = { ...base, outcome: 'skipped', reason: error.message };
    } else {
      fire = { ...base, outcome: 'failed', reason: `${error.code}: ${error.message}` };
    }
  }
  ctx.logger.info({ policy: policy.name, objectId: data.objectId, outcome: fire.outcome, runId: fire.runId, reason: fire.reason }, 'policy fired');
  await recordFire(ctx, policy.id, fire);
  return fire;
}
