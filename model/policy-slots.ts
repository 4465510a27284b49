import type { Redis } from 'ioredis';
import { KEY_PREFIX } from './keys.js';
import type { PolicyType } from './policy.js';

/** Hash: the policy of one type on one object (`policy`: its id, `at`: when it was claimed, ms). */
const slotKey = (objectId: string, type: PolicyType) => `${KEY_PREFIX}:policy-slot:${objectId}:${type}`;

/**
 * Claims every slot or none.
 * KEYS[i]  the slot of the i-th object (a hash: policy, at)
 * ARGV[1]  the claiming policy id
 * ARGV[2]  now, in ms (recorded as `at` on the slots it takes)
 * ARGV[3+] holders the caller found stale (their policy is gone or no longer targets the object): taken over
 * Returns 0 when every slot is now the policy's, else {i, holder, at} of the first slot another policy holds.
 */
const CLAIM = `
for i, key in ipairs(KEYS) do
  local holder = redis.call('HGET', key, 'policy')
  if holder and holder ~= ARGV[1] then
    local stale = false
    for j = 3, #ARGV do
      if ARGV[j] == holder then stale = true end
    end
    if not stale then return {i, holder, redis.call('HGET', key, 'at') or '0'} end
  end
end
for _, key in ipairs(KEYS) do
  if redis.call('HGET', key, 'policy') ~= ARGV[1] then redis.call('HSET', key, 'policy', ARGV[1], 'at', ARGV[2]) end
end
return 0
`;

/**
 * Releases the slots the policy holds; a slot another policy holds is left alone.
 * KEYS[i]  the slot of the i-th object
 * ARGV[1]  the releasing policy id
 * Returns how many slots were released.
 */
const RELEASE = `
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('HGET', key, 'policy') == ARGV[1] then
    redis.call('DEL', key)
    released = released + 1
  end
end
return released
`;

/** Another policy holds an object's slot. */
export interface SlotHolder {
  objectId: string;
  policyId: string;
  /** When it claimed the slot (ms since epoch). */
  claimedAt: number;
}

type SlotCommands = Redis & {
  dvxClaimPolicySlots(...args: string[]): Promise<0 | [number, string, string]>;
  dvxReleasePolicySlots(...args: string[]): Promise<number>;
};

function hasSlotCommands(redis: Redis): redis is SlotCommands {
  return 'dvxClaimPolicySlots' in redis && 'dvxReleasePolicySlots' in redis;
}

/**
 * "One policy of each type per object", kept atomically: a slot per (object, type) names the policy that holds it.
 * A policy claims its slots before its record says it targets the objects, so of two concurrent creates or applies
 * on one object only one gets the slot; the other is refused.
 */
export class PolicySlots {
  private readonly redis: SlotCommands;

  constructor(redis: Redis) {
    if (!hasSlotCommands(redis)) {
      redis.defineCommand('dvxClaimPolicySlots', { lua: CLAIM });
      redis.defineCommand('dvxReleasePolicySlots', { lua: RELEASE });
    }
    if (!hasSlotCommands(redis)) throw new TypeError('ioredis did not define the policy slot commands');
    this.redis = redis;
  }

  /**
   * Claims the slot of each object for the policy, all or none. Answers null when they are the policy's, or the
   * first other holder (whose slot is left as it is) unless the caller listed it in `stale`.
   */
  async claim(
    policyId: string,
    type: PolicyType,
    objectIds: readonly string[],
    stale: readonly string[] = [],
  ): Promise<SlotHolder | null> {
    if (objectIds.length === 0) return null;
    const keys = objectIds.map((objectId) => slotKey(objectId, type));
    const answer = await this.redis.dvxClaimPolicySlots(
      String(keys.length),
      ...keys,
      policyId,
      String(Date.now()),
      ...stale,
    );
    if (answer === 0) return null;
    const [index, holder, at] = answer;
    return { objectId: objectIds[index - 1] ?? '', policyId: holder, claimedAt: Number(at) };
  }

  /** Releases the policy's slots on the objects (those another policy holds stay). */
  async release(policyId: string, type: PolicyType, objectIds: readonly string[]): Promise<number> {
    if (objectIds.length === 0) return 0;
    const keys = objectIds.map((objectId) => slotKey(objectId, type));
    return this.redis.dvxReleasePolicySlots(String(keys.length), ...keys, policyId);
  }

  /** The policy holding the object's slot of a type, or null. */
  async holder(objectId: string, type: PolicyType): Promise<string | null> {
    return this.redis.hget(slotKey(objectId, type), 'policy');
  }
}
