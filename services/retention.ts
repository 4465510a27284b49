import { isDvxError } from '../errors/index.js';
import { snapshotDependents } from '../model/dependencies.js';
import type { RetentionKept, RetentionRule } from '../model/policy.js';
import type { SnapshotRecord } from '../model/snapshot.js';
import { snapshotBookmarks } from './bookmarks.js';
import type { DatasetObject } from './dataset-object.js';
import type { ServiceContext } from './service-context.js';
import { deleteSnapshot, latestSnapshot } from './snapshots.js';
import { refuseIfLocked } from './start-run.js';

const DAY_MS = 86_400_000;

/** What a retention rule does to one object's snapshots. */
export interface RetentionPlan {
  /** Beyond the rules and depended on by nothing: to delete, oldest first. */
  toDelete: SnapshotRecord[];
  /** Kept, oldest first, each with every reason it is kept. */
  kept: RetentionKept[];
}

/** Says in words what a rule keeps: "the newest 3 and everything younger than 7 days". */
export function describeRetention(rule: RetentionRule): string {
  const parts: string[] = [];
  if (rule.keepCount !== null) parts.push(`the newest ${rule.keepCount}`);
  if (rule.keepDays !== null)
    parts.push(`everything younger than ${rule.keepDays} day${rule.keepDays === 1 ? '' : 's'}`);
  return parts.join(' and ');
}

/**
 * Which snapshots of a dSource or VDB a rule deletes and which it keeps, and why. Never deleted: the newest snapshot
 * of the current timeflow, a snapshot a timeflow was cloned from (a VDB, a refresh, a rewind), one a VDB is being
 * provisioned from, and a bookmarked one.
 */
export async function planRetention(
  ctx: ServiceContext,
  owner: DatasetObject,
  rule: RetentionRule,
  now = Date.now(),
): Promise<RetentionPlan> {
  const { model } = ctx;
  const record = owner.type === 'vdb' ? await model.vdbs.require(owner.id) : await model.dsources.require(owner.id);
  const snapshots = (await model.snapshots.listBy('ownerId', owner.id)).sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
  );
  const newest = await latestSnapshot(ctx, owner.id, record.currentTimeflowId);
  const provisioning = (await model.vdbs.listBy('parentId', owner.id)).filter((vdb) => vdb.status === 'PROVISIONING');
  const toDelete: SnapshotRecord[] = [];
  const kept: RetentionKept[] = [];
  for (const [index, snapshot] of snapshots.entries()) {
    const reasons: string[] = [];
    const rank = snapshots.length - index; // 1 = newest
    if (rule.keepCount !== null && rank <= rule.keepCount) reasons.push(`among the newest ${rule.keepCount}`);
    if (rule.keepDays !== null && now - Date.parse(snapshot.createdAt) < rule.keepDays * DAY_MS)
      reasons.push(`younger than ${rule.keepDays} day${rule.keepDays === 1 ? '' : 's'}`);
    if (snapshot.id === newest?.id) reasons.push('the newest snapshot of the current timeflow');
    for (const dependent of await snapshotDependents(model, snapshot.id)) {
      reasons.push(
        dependent.owner
          ? `timeflow ${dependent.id} of ${dependent.owner.type === 'vdb' ? 'VDB' : 'dSource'} "${dependent.owner.name}" was cloned from it`
          : `${dependent.type} ${dependent.id} depends on it`,
      );
    }
    for (const vdb of provisioning)
      if (vdb.provisionedFromSnapshotId === snapshot.id) reasons.push(`VDB "${vdb.name}" is being provisioned from it`);
    for (const bookmark of await snapshotBookmarks(ctx, snapshot.id))
      reasons.push(`bookmarked as "${bookmark.name}"${bookmark.expiresAt ? ` until ${bookmark.expiresAt}` : ''}`);
    if (reasons.length) kept.push({ snapshotId: snapshot.id, createdAt: snapshot.createdAt, reasons });
    else toDelete.push(snapshot);
  }
  return { toDelete, kept };
}

/** What a retention fire did on one object. */
export interface RetentionOutcome {
  deleted: { snapshotId: string; createdAt: string }[];
  kept: RetentionKept[];
}

/**
 * Applies a retention rule to one object now: refused with OBJECT_LOCKED while a run holds it. Each deletion goes
 * through the same checks as `dvx snapshot rm`; a snapshot that became depended on in between is kept, with why.
 */
export async function applyRetention(
  ctx: ServiceContext,
  owner: DatasetObject,
  rule: RetentionRule,
  now = Date.now(),
): Promise<RetentionOutcome> {
  await refuseIfLocked(ctx, owner.type, owner.id, `${owner.type === 'vdb' ? 'VDB' : 'dSource'} ${owner.name}`);
  const plan = await planRetention(ctx, owner, rule, now);
  const deleted: RetentionOutcome['deleted'] = [];
  const kept = [...plan.kept];
  for (const snapshot of plan.toDelete) {
    try {
      await deleteSnapshot(ctx, snapshot.id);
      deleted.push({ snapshotId: snapshot.id, createdAt: snapshot.createdAt });
      ctx.logger.info({ snapshotId: snapshot.id, ownerId: owner.id }, 'retention deleted a snapshot');
    } catch (error) {
      if (!isDvxError(error)) throw error;
      kept.push({
        snapshotId: snapshot.id,
        createdAt: snapshot.createdAt,
        reasons: [`deletion refused: ${error.message}`],
      });
    }
  }
  kept.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.snapshotId.localeCompare(b.snapshotId));
  return { deleted, kept };
}
