import { isDvxError, NotFoundError, ValidationError } from '../../errors/index.js';
import type { PolicyRecord, PolicySchedule, PolicyType, RetentionRule } from '../../model/policy.js';
import { nextCronFires } from '../../workers/policy-queue.js';
import { findDatasetObject, type DatasetObject } from '../dataset-object.js';
import type { ServiceContext } from '../service-context.js';

/** What a policy does on which kinds of object. */
const TARGET_TYPES: Record<PolicyType, readonly ('dsource' | 'vdb')[]> = {
  SNAPSYNC: ['dsource'],
  VDB_SNAPSHOT: ['vdb'],
  REFRESH: ['vdb'],
  RETENTION: ['dsource', 'vdb'],
};

export const objectLabel = (object: { type: 'dsource' | 'vdb'; name: string }) =>
  `${object.type === 'vdb' ? 'VDB' : 'dSource'} "${object.name}"`;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Checks a cron expression and time zone the way the job scheduler will read them. */
export function validateSchedule(
  schedule: { cron?: unknown; timeZone?: unknown } | undefined,
  pointer = '/schedule',
): PolicySchedule {
  if (!schedule || typeof schedule.cron !== 'string' || schedule.cron.trim() === '') {
    throw new ValidationError(
      'A policy needs a schedule: a cron expression.',
      [{ pointer: `${pointer}/cron`, message: 'required' }],
      { action: 'Give e.g. --cron "0 2 * * *" (02:00 every day) and --tz Europe/Paris.' },
    );
  }
  const timeZone = typeof schedule.timeZone === 'string' && schedule.timeZone !== '' ? schedule.timeZone : 'UTC';
  if (!isTimeZone(timeZone)) {
    throw new ValidationError(
      `"${timeZone}" is not an IANA time zone.`,
      [{ pointer: `${pointer}/timeZone`, message: 'unknown time zone' }],
      { action: 'Give a zone like UTC, Europe/Paris or America/New_York.' },
    );
  }
  const cron = schedule.cron.trim();
  let fires: number[];
  try {
    fires = nextCronFires({ cron, timeZone }, 2);
  } catch (error) {
    throw new ValidationError(
      `Cron expression "${cron}" is invalid: ${(error as Error).message}.`,
      [{ pointer: `${pointer}/cron`, message: (error as Error).message }],
      {
        action:
          'Use 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; e.g. "0 2 * * *" or "*/30 * * * * *".',
      },
    );
  }
  if (fires.length === 0)
    throw new ValidationError(
      `Cron expression "${cron}" never fires.`,
      [{ pointer: `${pointer}/cron`, message: 'never fires' }],
      { action: 'Check the day and month fields.' },
    );
  return { cron, timeZone };
}

/** Checks the rules of a RETENTION policy: at least one of keepCount and keepDays, each in range. */
export function validateRetention(
  retention: { keepCount?: number | null; keepDays?: number | null } | undefined,
  pointer = '/retention',
): RetentionRule {
  const keepCount = retention?.keepCount ?? null;
  const keepDays = retention?.keepDays ?? null;
  if (keepCount === null && keepDays === null) {
    throw new ValidationError(
      'A RETENTION policy needs keepCount, keepDays or both.',
      [{ pointer, message: 'at least one of keepCount and keepDays is required' }],
      { action: 'Give e.g. --keep-count 10 and/or --keep-days 7.' },
    );
  }
  if (keepCount !== null && !(Number.isInteger(keepCount) && keepCount >= 0))
    throw new ValidationError(
      `keepCount ${keepCount} is not a whole number of snapshots.`,
      [{ pointer: `${pointer}/keepCount`, message: 'an integer >= 0' }],
      { action: 'Give a count like 10.' },
    );
  if (keepDays !== null && !(Number.isFinite(keepDays) && keepDays > 0))
    throw new ValidationError(
      `keepDays ${keepDays} is not a positive number of days.`,
      [{ pointer: `${pointer}/keepDays`, message: 'a number > 0' }],
      { action: 'Give a number of days like 7 (fractions allowed: 0.5 is 12 hours).' },
    );
  return { keepCount, keepDays };
}

/** The policy, or NOT_FOUND. */
export async function requirePolicy(ctx: ServiceContext, ref: string): Promise<PolicyRecord> {
  const policy = await ctx.model.policies.find(ref);
  if (!policy) throw new NotFoundError('policy', ref, 'See `dvx policy list`.');
  return policy;
}

/** Resolves a target reference and checks the policy type applies to it. */
export async function resolveTarget(
  ctx: ServiceContext,
  type: PolicyType,
  ref: string,
  pointer: string,
): Promise<DatasetObject> {
  let object: DatasetObject;
  try {
    object = await findDatasetObject(ctx, ref);
  } catch (error) {
    if (isDvxError(error) && error.code === 'NOT_FOUND')
      throw new ValidationError(`No dSource or VDB "${ref}".`, [{ pointer, message: 'no such dSource or VDB' }], {
        action: 'See `dvx dsource list` and `dvx vdb list`.',
      });
    throw error;
  }
  if (!TARGET_TYPES[type].includes(object.type)) {
    throw new ValidationError(
      `A ${type} policy cannot apply to ${objectLabel(object)}: it applies to ${TARGET_TYPES[type].map((t) => (t === 'vdb' ? 'VDBs' : 'dSources')).join(' and ')} only.`,
      [{ pointer, message: `not a ${TARGET_TYPES[type].join(' or ')}` }],
      {
        action: type === 'SNAPSYNC' ? 'Use a VDB_SNAPSHOT policy for VDBs.' : 'Use a SNAPSYNC policy for dSources.',
      },
    );
  }
  return object;
}
