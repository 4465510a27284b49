import type { StoredRecord } from './record-store.js';

/**
 * What a policy does when it fires: SNAPSYNC syncs a dSource (snapshot parameters null), VDB_SNAPSHOT snapshots a
 * VDB, REFRESH refreshes a VDB from its parent's newest snapshot, RETENTION deletes snapshots beyond its rules.
 */
export type PolicyType = 'SNAPSYNC' | 'VDB_SNAPSHOT' | 'REFRESH' | 'RETENTION';

export const POLICY_TYPES: readonly PolicyType[] = ['SNAPSYNC', 'VDB_SNAPSHOT', 'REFRESH', 'RETENTION'];

/** When a policy fires: a cron expression (5 fields, or 6 with seconds first) read in an IANA time zone. */
export interface PolicySchedule {
  cron: string;
  /** @defaultValue 'UTC' */
  timeZone: string;
}

/** What a RETENTION policy keeps; a snapshot matching either rule is kept. At least one rule is set. */
export interface RetentionRule {
  /** Keep the newest N snapshots of the object. */
  keepCount: number | null;
  /** Keep every snapshot younger than D days. */
  keepDays: number | null;
}

/** An object a policy is applied to. */
export interface PolicyTarget {
  type: 'dsource' | 'vdb';
  id: string;
}

/** A snapshot a retention fire kept, and why. */
export interface RetentionKept {
  snapshotId: string;
  createdAt: string;
  reasons: string[];
}

/** One firing of a policy on one object. */
export interface PolicyFire {
  at: string;
  objectType: 'dsource' | 'vdb';
  objectId: string;
  /** started: a run was started; skipped: nothing was done (see reason); pruned: a retention fire ran; failed: an unexpected error. */
  outcome: 'started' | 'skipped' | 'pruned' | 'failed';
  runId?: string;
  reason?: string;
  /** For skips because another run held the object. */
  heldBy?: string;
  /** Retention: what was deleted and what was kept (with why). */
  deleted?: { snapshotId: string; createdAt: string }[];
  kept?: RetentionKept[];
}

/** A schedule or a retention rule, applied to dSources and VDBs. */
export interface PolicyRecord extends StoredRecord {
  name: string;
  type: PolicyType;
  schedule: PolicySchedule;
  /** RETENTION only. */
  retention: RetentionRule | null;
  targets: PolicyTarget[];
  paused: boolean;
  /** Newest first, at most {@link POLICY_FIRE_HISTORY}. */
  lastFires: PolicyFire[];
  createdBy: string;
}

/** How many fires a policy record remembers. */
export const POLICY_FIRE_HISTORY = 50;

/** The schedule of a RETENTION policy when none is given: every hour, on the hour, UTC. */
export const DEFAULT_RETENTION_SCHEDULE: PolicySchedule = { cron: '0 * * * *', timeZone: 'UTC' };
