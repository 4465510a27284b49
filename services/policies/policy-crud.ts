import { ConflictError, isDvxError, ValidationError } from '../../errors/index.js';
import { newId } from '../../model/ids.js';
import {
  DEFAULT_RETENTION_SCHEDULE,
  POLICY_TYPES,
  type PolicyRecord,
  type PolicyTarget,
  type PolicyType,
} from '../../model/policy.js';
import { removePolicyScheduler } from '../../workers/policy-queue.js';
import { findDatasetObject, type DatasetObject } from '../dataset-object.js';
import { checkName } from '../dsources.js';
import { requireState } from '../object-state.js';
import { present } from '../present.js';
import type { Actor, ServiceContext } from '../service-context.js';
import { claimOnePerType, refuseSameType, releaseOnePerType } from './one-policy-per-type.js';
import { presentPolicy, schedulersFor } from './policy-schedules.js';
import { policyWarnings } from './policy-warnings.js';
import { requirePolicy, resolveTarget, validateRetention, validateSchedule } from './validate-policy.js';

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

/** Creates a policy, applied at once to `targets`; answers with warnings about combinations that cannot work. */
export async function createPolicy(ctx: ServiceContext, request: CreatePolicyRequest, actor: Actor) {
  checkName(request.name, 'Policy');
  if (!POLICY_TYPES.includes(request.type))
    throw new ValidationError(
      `Unknown policy type "${request.type}".`,
      [{ pointer: '/type', message: `one of ${POLICY_TYPES.join(', ')}` }],
      { action: `Use one of ${POLICY_TYPES.join(', ')}.` },
    );
  const schedule =
    request.type === 'RETENTION' && !request.schedule ? DEFAULT_RETENTION_SCHEDULE : validateSchedule(request.schedule);
  if (request.type !== 'RETENTION' && request.retention)
    throw new ValidationError(
      `Only RETENTION policies take retention rules, not ${request.type}.`,
      [{ pointer: '/retention', message: 'not allowed for this type' }],
      { action: 'Leave out the retention rules, or create a RETENTION policy.' },
    );
  const retention = request.type === 'RETENTION' ? validateRetention(request.retention) : null;
  const existing = await ctx.model.policies.byName(request.name);
  if (existing)
    throw new ValidationError(
      `A policy named "${request.name}" already exists (${existing.id}).`,
      [{ pointer: '/name', message: 'already taken' }],
      { action: 'Choose another name, or change that policy (dvx policy update).' },
    );
  const all = await ctx.model.policies.list();
  const id = newId('pol');
  const objects: DatasetObject[] = [];
  for (const [index, ref] of (request.targets ?? []).entries()) {
    const object = await resolveTarget(ctx, request.type, ref, `/targets/${index}`);
    refuseSameType(all, { id, type: request.type }, object);
    if (!objects.some((target) => target.id === object.id)) objects.push(object);
  }
  const targets: PolicyTarget[] = objects.map((object) => ({ type: object.type, id: object.id }));
  await claimOnePerType(ctx, { id, type: request.type }, objects);
  let policy: PolicyRecord;
  try {
    policy = await ctx.model.policies.create({
      id,
      name: request.name,
      type: request.type,
      schedule,
      retention,
      targets,
      paused: false,
      lastFires: [],
      createdBy: actor.name,
    });
  } catch (error) {
    await releaseOnePerType(
      ctx,
      { id, type: request.type },
      targets.map((target) => target.id),
    );
    throw error;
  }
  await schedulersFor(ctx, policy);
  const warnings = await policyWarnings(
    ctx,
    [...all, policy],
    targets.map((target) => target.id),
  );
  return { policy: await presentPolicy(ctx, policy), warnings };
}

export async function listPolicies(ctx: ServiceContext) {
  return Promise.all((await ctx.model.policies.list()).map((policy) => presentPolicy(ctx, policy, 1)));
}

export async function showPolicy(ctx: ServiceContext, ref: string) {
  const policy = await requirePolicy(ctx, ref);
  const warnings = await policyWarnings(
    ctx,
    await ctx.model.policies.list(),
    policy.targets.map((target) => target.id),
  );
  return { policy: await presentPolicy(ctx, policy, 5), warnings };
}

/** Changes a policy's schedule or retention rules; its job schedulers follow. */
export async function updatePolicy(ctx: ServiceContext, ref: string, request: UpdatePolicyRequest) {
  const current = await requirePolicy(ctx, ref);
  const schedule = request.schedule ? validateSchedule(request.schedule) : current.schedule;
  if (request.retention && current.type !== 'RETENTION')
    throw new ValidationError(
      `Only RETENTION policies take retention rules; "${current.name}" is ${current.type}.`,
      [{ pointer: '/retention', message: 'not allowed for this type' }],
      { action: 'Leave out the retention rules.' },
    );
  const retention = request.retention
    ? validateRetention({ ...current.retention, ...request.retention })
    : current.retention;
  const policy = await ctx.model.policies.update(current.id, () => ({ schedule, retention }));
  await schedulersFor(ctx, policy);
  const warnings = await policyWarnings(
    ctx,
    await ctx.model.policies.list(),
    policy.targets.map((target) => target.id),
  );
  return { policy: await presentPolicy(ctx, policy), warnings };
}

/** Deletes a policy and every job scheduler it had. */
export async function deletePolicy(ctx: ServiceContext, ref: string) {
  const policy = await requirePolicy(ctx, ref);
  for (const target of policy.targets) await removePolicyScheduler(ctx.model.redis, policy.id, target.id);
  await ctx.model.policies.delete(policy.id);
  await releaseOnePerType(
    ctx,
    policy,
    policy.targets.map((target) => target.id),
  );
  return { deleted: present(policy) };
}

/** Applies a policy to a dSource or VDB: one job scheduler for the pair. Refuses a second policy of the same type. */
export async function applyPolicy(ctx: ServiceContext, ref: string, objectRef: string) {
  const current = await requirePolicy(ctx, ref);
  const object = await resolveTarget(ctx, current.type, objectRef, '/object');
  const all = await ctx.model.policies.list();
  refuseSameType(all, current, object);
  let policy = current;
  if (!current.targets.some((target) => target.id === object.id)) {
    await claimOnePerType(ctx, current, [object]);
    try {
      policy = await ctx.model.policies.update(current.id, (latest) => ({
        targets: latest.targets.some((target) => target.id === object.id)
          ? latest.targets
          : [...latest.targets, { type: object.type, id: object.id }],
      }));
    } catch (error) {
      await releaseOnePerType(ctx, current, [object.id]);
      throw error;
    }
  }
  await schedulersFor(ctx, policy);
  const warnings = await policyWarnings(
    ctx,
    all.map((candidate) => (candidate.id === policy.id ? policy : candidate)),
    [object.id],
  );
  return { policy: await presentPolicy(ctx, policy), warnings };
}

/** The policy's target named by an object's name, or undefined when no dSource or VDB has that name. */
async function appliedTarget(
  ctx: ServiceContext,
  policy: PolicyRecord,
  objectRef: string,
): Promise<PolicyTarget | undefined> {
  let object: DatasetObject;
  try {
    object = await findDatasetObject(ctx, objectRef);
  } catch (error) {
    if (isDvxError(error) && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
  return policy.targets.find((candidate) => candidate.id === object.id);
}

/** Takes a policy off an object (its job scheduler goes, and its slot). */
export async function unapplyPolicy(ctx: ServiceContext, ref: string, objectRef: string) {
  const current = await requirePolicy(ctx, ref);
  const target =
    current.targets.find((candidate) => candidate.id === objectRef) ?? (await appliedTarget(ctx, current, objectRef));
  if (!target)
    throw new ConflictError({
      message: `Policy ${current.name} is not applied to "${objectRef}".`,
      action: `It is applied to: ${current.targets.map((t) => t.id).join(', ') || 'nothing'}.`,
    });
  await removePolicyScheduler(ctx.model.redis, current.id, target.id);
  const policy = await ctx.model.policies.update(current.id, (latest) => ({
    targets: latest.targets.filter((candidate) => candidate.id !== target.id),
  }));
  await releaseOnePerType(ctx, current, [target.id]);
  return { policy: await presentPolicy(ctx, policy), warnings: [] as string[] };
}

/** Pauses (removes the job schedulers: nothing fires) or resumes (schedulers back, next fire from now) a policy. */
export async function setPolicyPaused(ctx: ServiceContext, ref: string, paused: boolean) {
  const current = await requirePolicy(ctx, ref);
  requireState(
    current.paused !== paused,
    `Policy ${current.name} is already ${paused ? 'paused' : 'active'}.`,
    'Nothing to do.',
  );
  const policy = await ctx.model.policies.update(current.id, () => ({ paused }));
  await schedulersFor(ctx, policy);
  const warnings = paused
    ? []
    : await policyWarnings(
        ctx,
        await ctx.model.policies.list(),
        policy.targets.map((target) => target.id),
      );
  return { policy: await presentPolicy(ctx, policy), warnings };
}
