import { isDvxError } from '../../errors/index.js';
import type { PolicyRecord, PolicyTarget } from '../../model/policy.js';
import {
  nextCronFires,
  policyQueue,
  policySchedulerId,
  policySchedulerIds,
  policySchedulerNext,
  removePolicyScheduler,
  upsertPolicyScheduler,
} from '../../workers/policy-queue.js';
import { present } from '../present.js';
import type { ServiceContext } from '../service-context.js';
import { claimOnePerType } from './one-policy-per-type.js';

/** Makes a policy's job schedulers match it: one per target while it is active, none while it is paused. */
export async function schedulersFor(ctx: ServiceContext, policy: PolicyRecord): Promise<void> {
  for (const target of policy.targets) {
    if (policy.paused) await removePolicyScheduler(ctx.model.redis, policy.id, target.id);
    else
      await upsertPolicyScheduler(ctx.model.redis, policy.schedule, {
        policyId: policy.id,
        objectType: target.type,
        objectId: target.id,
      });
  }
}

/** The name of a policy's target, or null when the object is gone. */
export async function objectName(ctx: ServiceContext, target: PolicyTarget): Promise<string | null> {
  const record = target.type === 'vdb' ? await ctx.model.vdbs.get(target.id) : await ctx.model.dsources.get(target.id);
  return record?.name ?? null;
}

/** A policy as the API shows it: each target with its name and next fire times (from its job scheduler). */
export async function presentPolicy(ctx: ServiceContext, policy: PolicyRecord, upcoming = 3) {
  const targets = await Promise.all(
    policy.targets.map(async (target) => {
      const next = policy.paused ? null : await policySchedulerNext(ctx.model.redis, policy.id, target.id);
      const later = next === null ? [] : nextCronFires(policy.schedule, Math.max(upcoming - 1, 0), next);
      return {
        ...target,
        name: await objectName(ctx, target),
        schedulerId: policySchedulerId(policy.id, target.id),
        nextFires: next === null ? [] : [next, ...later].map((at) => new Date(at).toISOString()),
      };
    }),
  );
  const nexts = targets
    .map((target) => target.nextFires[0])
    .filter((at): at is string => Boolean(at))
    .sort();
  return present({ ...policy, targets, nextFire: nexts[0] ?? null });
}

/**
 * Makes the job schedulers match the policy records: one per applied target of each active policy, none else; and
 * gives every applied target its policy slot (records written before slots existed have none).
 * Run at engine start (a scheduler lost with a Redis restore, or left by a deleted policy, is put right).
 */
export async function reconcilePolicySchedulers(ctx: ServiceContext): Promise<{ upserted: number; removed: number }> {
  const expected = new Set<string>();
  let upserted = 0;
  for (const policy of await ctx.model.policies.list()) {
    for (const target of policy.targets) {
      try {
        await claimOnePerType(ctx, policy, [{ type: target.type, id: target.id, name: target.id }]);
      } catch (error) {
        if (!(isDvxError(error) && error.code === 'CONFLICT')) throw error;
        ctx.logger.warn(
          { policy: policy.name, objectId: target.id, err: error.message },
          'two policies of one type on one object',
        );
      }
    }
    if (policy.paused) continue;
    for (const target of policy.targets) {
      expected.add(policySchedulerId(policy.id, target.id));
      await upsertPolicyScheduler(ctx.model.redis, policy.schedule, {
        policyId: policy.id,
        objectType: target.type,
        objectId: target.id,
      });
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
