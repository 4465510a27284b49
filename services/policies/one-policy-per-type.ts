import { ConflictError } from '../../errors/index.js';
import type { PolicyRecord, PolicyType } from '../../model/policy.js';
import type { DatasetObject } from '../dataset-object.js';
import type { ServiceContext } from '../service-context.js';
import { objectLabel } from './validate-policy.js';

/**
 * How long a slot claimed by a policy that does not target the object (yet) counts as a create or apply in
 * progress. After that, the claim is taken to be left by a process that died between claiming and writing.
 */
const CLAIM_IN_PROGRESS_MS = 60_000;

function conflict(
  policy: { type: PolicyType },
  object: DatasetObject,
  other: { id: string; name: string } | null,
): ConflictError {
  if (!other) {
    return new ConflictError({
      message: `${objectLabel(object)} is getting another ${policy.type} policy at this moment; an object takes one policy of each type.`,
      action: 'See `dvx policy list`, then apply this policy once the other is removed from the object.',
      details: { objectId: object.id },
    });
  }
  return new ConflictError({
    message: `${objectLabel(object)} already has a ${policy.type} policy ("${other.name}"); an object takes one policy of each type.`,
    action: `Remove it from that policy first (dvx policy unapply ${other.name} ${object.name}), or change that policy instead.`,
    details: { policyId: other.id, policyName: other.name, objectId: object.id },
  });
}

/** Refuses a second policy of the same type on one object, as the policy records say (the slots decide races). */
export function refuseSameType(
  all: PolicyRecord[],
  policy: { id: string; type: PolicyType },
  object: DatasetObject,
): void {
  const other = all.find(
    (candidate) =>
      candidate.id !== policy.id &&
      candidate.type === policy.type &&
      candidate.targets.some((target) => target.id === object.id),
  );
  if (other) throw conflict(policy, object, other);
}

/**
 * Claims, for the policy, the slot of its type on every object, all or none: of two concurrent creates or applies
 * on one object, one gets the slot and the other a ConflictError. A slot held by a policy that no longer targets the
 * object (a claim left by a crash, or a policy deleted meanwhile) is taken over once it is older than a create takes.
 */
export async function claimOnePerType(
  ctx: ServiceContext,
  policy: { id: string; type: PolicyType },
  objects: readonly DatasetObject[],
): Promise<void> {
  const stale: string[] = [];
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const holder = await ctx.model.policySlots.claim(
      policy.id,
      policy.type,
      objects.map((object) => object.id),
      stale,
    );
    if (!holder) return;
    const object = objects.find((candidate) => candidate.id === holder.objectId) ?? {
      type: 'dsource',
      id: holder.objectId,
      name: holder.objectId,
    };
    const other = await ctx.model.policies.get(holder.policyId);
    if (other?.targets.some((target) => target.id === holder.objectId)) throw conflict(policy, object, other);
    if (Date.now() - holder.claimedAt < CLAIM_IN_PROGRESS_MS) throw conflict(policy, object, null);
    stale.push(holder.policyId);
  }
  throw new ConflictError({
    message: `The policy slots of ${policy.type} kept changing while ${policy.id} claimed them.`,
    action: 'Try again.',
  });
}

/** Gives back the policy's slots on the objects (after it was taken off them, or deleted). */
export async function releaseOnePerType(
  ctx: ServiceContext,
  policy: { id: string; type: PolicyType },
  objectIds: readonly string[],
): Promise<void> {
  await ctx.model.policySlots.release(policy.id, policy.type, objectIds);
}
