import { getNextMillis, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_PREFIX } from './step-job.js';

/** The queue policy fires (and bookmark expiry) run on; one BullMQ job scheduler per (policy, object). */
export const POLICY_QUEUE = 'dvx-policies';

/** Job name of a policy fire. */
export const POLICY_FIRE_JOB = 'policy-fire';

/** Job scheduler and job name of the periodic removal of expired bookmarks. */
export const BOOKMARK_EXPIRY_JOB = 'bookmark-expiry';

/** Prefix of every policy job scheduler id. */
export const POLICY_SCHEDULER_PREFIX = 'policy-';

/** What a policy fire job carries. */
export interface PolicyFireJobData {
  policyId: string;
  objectType: 'dsource' | 'vdb';
  objectId: string;
}

/** The job scheduler id of a policy on an object. Record ids hold no `:`, which BullMQ forbids in ids. */
export function policySchedulerId(policyId: string, objectId: string): string {
  return `${POLICY_SCHEDULER_PREFIX}${policyId}-${objectId}`;
}

const queues = new WeakMap<Redis, Queue>();

/** The policy queue on a Redis client, created once per client. */
export function policyQueue(redis: Redis): Queue {
  let queue = queues.get(redis);
  if (!queue) {
    queue = new Queue(POLICY_QUEUE, { connection: redis, prefix: QUEUE_PREFIX });
    queues.set(redis, queue);
  }
  return queue;
}

/** Closes the policy queue of a Redis client, if one was made (the client itself stays open). */
export async function closePolicyQueue(redis: Redis): Promise<void> {
  const queue = queues.get(redis);
  queues.delete(redis);
  await queue?.close();
}

/** Creates or updates the job scheduler of a policy on an object. */
export async function upsertPolicyScheduler(
  redis: Redis,
  schedule: { cron: string; timeZone: string },
  data: PolicyFireJobData,
): Promise<void> {
  await policyQueue(redis).upsertJobScheduler(
    policySchedulerId(data.policyId, data.objectId),
    { pattern: schedule.cron, tz: schedule.timeZone },
    { name: POLICY_FIRE_JOB, data, opts: { removeOnComplete: { count: 200 }, removeOnFail: { count: 200 } } },
  );
}

export async function removePolicyScheduler(redis: Redis, policyId: string, objectId: string): Promise<void> {
  await policyQueue(redis).removeJobScheduler(policySchedulerId(policyId, objectId));
}

/** When the job scheduler of a policy on an object fires next (ms since epoch), or null when it has none. */
export async function policySchedulerNext(redis: Redis, policyId: string, objectId: string): Promise<number | null> {
  const scheduler = await policyQueue(redis).getJobScheduler(policySchedulerId(policyId, objectId));
  return scheduler?.next ?? null;
}

/** Ids of every policy job scheduler in Redis. */
export async function policySchedulerIds(redis: Redis): Promise<string[]> {
  const schedulers = await policyQueue(redis).getJobSchedulers(0, -1, true);
  return schedulers.map((scheduler) => scheduler.key).filter((id) => id.startsWith(POLICY_SCHEDULER_PREFIX));
}

/** The next `count` times (ms since epoch) a cron expression fires in a time zone, after `from`. Throws on a bad expression. */
export function nextCronFires(
  schedule: { cron: string; timeZone: string },
  count: number,
  from = Date.now(),
): number[] {
  const fires: number[] = [];
  let at = from;
  for (let i = 0; i < count; i += 1) {
    const next = getNextMillis(at, { pattern: schedule.cron, tz: schedule.timeZone });
    if (next === undefined || !Number.isFinite(next)) break;
    fires.push(next);
    at = next;
  }
  return fires;
}
