import { ConflictError, isDvxError, toDvxError } from '../../errors/index.js';
import { POLICY_FIRE_HISTORY, type PolicyFire, type PolicyRecord } from '../../model/policy.js';
import { removePolicyScheduler, type PolicyFireJobData } from '../../workers/policy-queue.js';
import type { DatasetObject } from '../dataset-object.js';
import { requireState } from '../object-state.js';
import { applyRetention } from '../retention.js';
import type { Actor, ServiceContext } from '../service-context.js';
import { startRun } from '../start-run.js';
import { refreshVdb, vdbAction } from '../vdbs.js';
import { releaseOnePerType } from './one-policy-per-type.js';
import { objectName } from './policy-schedules.js';

async function recordFire(ctx: ServiceContext, policyId: string, fire: PolicyFire): Promise<void> {
  await ctx.model.policies
    .update(policyId, (latest) => ({ lastFires: [fire, ...latest.lastFires].slice(0, POLICY_FIRE_HISTORY) }))
    .catch((error: unknown) => {
      if (!(isDvxError(error) && error.code === 'NOT_FOUND')) throw error;
    });
}

/** Does what a policy does on one object, once. Throws what the service layer refuses with. */
async function act(
  ctx: ServiceContext,
  policy: PolicyRecord,
  object: DatasetObject,
  actor: Actor,
): Promise<Omit<PolicyFire, 'at' | 'objectType' | 'objectId'>> {
  switch (policy.type) {
    case 'SNAPSYNC': {
      const dsource = await ctx.model.dsources.require(object.id);
      requireState(
        dsource.status === 'ACTIVE',
        `dSource ${dsource.name} is ${dsource.status}, so it cannot sync.`,
        'The next fire tries again.',
      );
      requireState(
        dsource.enabled,
        `dSource ${dsource.name} is disabled, so it cannot sync.`,
        `Enable it (dvx dsource enable ${dsource.name}) or pause the policy.`,
      );
      await ctx.space.require(`syncing dSource ${dsource.name} (a new snapshot)`);
      // Policy-driven syncs pass null snapshot parameters, as the vSDK says.
      const run = await startRun(
        ctx,
        'sync',
        { type: 'dsource', id: dsource.id },
        { dsourceId: dsource.id, pluginType: dsource.pluginType, snapshotParameters: null },
        actor,
      );
      return { outcome: 'started', runId: run.id };
    }
    case 'VDB_SNAPSHOT':
      return { outcome: 'started', runId: (await vdbAction(ctx, object.id, 'snapshot', actor)).run.id };
    case 'REFRESH':
      return { outcome: 'started', runId: (await refreshVdb(ctx, object.id, {}, actor)).run.id };
    case 'RETENTION': {
      const rule = policy.retention;
      if (!rule)
        throw new ConflictError({
          message: `RETENTION policy ${policy.name} has no retention rules.`,
          action: `Give it some: dvx policy update ${policy.name} --keep-count 10.`,
        });
      const outcome = await applyRetention(ctx, object, rule);
      return { outcome: 'pruned', deleted: outcome.deleted, kept: outcome.kept.slice(-200) };
    }
  }
}

/**
 * One fire of a policy's job scheduler on one object: starts its run (actor `policy:<name>`) or applies retention.
 * A fire on an object another run holds is skipped and recorded, never queued behind that run; a fire whose
 * policy or object is gone removes its own scheduler.
 */
export async function firePolicy(
  ctx: ServiceContext,
  data: PolicyFireJobData,
): Promise<PolicyFire | { outcome: 'dropped'; reason: string }> {
  const policy = await ctx.model.policies.get(data.policyId);
  const target = policy?.targets.find((candidate) => candidate.id === data.objectId);
  if (!policy || !target) {
    await removePolicyScheduler(ctx.model.redis, data.policyId, data.objectId);
    return {
      outcome: 'dropped',
      reason: policy ? 'the policy is no longer applied to this object' : 'the policy no longer exists',
    };
  }
  if (policy.paused) return { outcome: 'dropped', reason: 'the policy is paused' };
  const base = { at: new Date().toISOString(), objectType: data.objectType, objectId: data.objectId };
  const name = await objectName(ctx, target);
  if (name === null) {
    await removePolicyScheduler(ctx.model.redis, policy.id, target.id);
    await ctx.model.policies.update(policy.id, (latest) => ({
      targets: latest.targets.filter((candidate) => candidate.id !== target.id),
    }));
    await releaseOnePerType(ctx, policy, [target.id]);
    const fire: PolicyFire = {
      ...base,
      outcome: 'skipped',
      reason: `${target.type === 'vdb' ? 'VDB' : 'dSource'} ${target.id} no longer exists; the policy was taken off it`,
    };
    await recordFire(ctx, policy.id, fire);
    return fire;
  }
  let fire: PolicyFire;
  try {
    fire = {
      ...base,
      ...(await act(ctx, policy, { type: target.type, id: target.id, name }, { name: `policy:${policy.name}` })),
    };
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
  ctx.logger.info(
    { policy: policy.name, objectId: data.objectId, outcome: fire.outcome, runId: fire.runId, reason: fire.reason },
    'policy fired',
  );
  await recordFire(ctx, policy.id, fire);
  return fire;
}
