import { refuseIfDependents, snapshotDependents } from '../model/dependencies.js';
import type { SnapshotRecord } from '../model/snapshot.js';
import { refuseIfBookmarked } from './bookmarks.js';
import { findDatasetObject } from './dataset-object.js';
import { present } from './present.js';
import type { ServiceContext } from './service-context.js';
import { refuseIfLocked } from './start-run.js';

const byTime = (a: SnapshotRecord, b: SnapshotRecord) =>
  a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);

/** Snapshots, oldest first: of one dSource or VDB, or all. */
export async function listSnapshots(ctx: ServiceContext, filter: { owner?: string }) {
  const snapshots = filter.owner
    ? await ctx.model.snapshots.listBy('ownerId', (await findDatasetObject(ctx, filter.owner)).id)
    : await ctx.model.snapshots.list();
  return present(
    snapshots.sort(byTime).map((snapshot) => ({ ...snapshot, path: ctx.storage.snapshotPath(snapshot.id) })),
  );
}

/** The newest snapshot of a dSource or VDB on its current timeflow, else the newest of any. */
export async function latestSnapshot(
  ctx: ServiceContext,
  ownerId: string,
  currentTimeflowId: string | null,
): Promise<SnapshotRecord | null> {
  const snapshots = (await ctx.model.snapshots.listBy('ownerId', ownerId)).sort(byTime);
  const current = snapshots.filter((snapshot) => snapshot.timeflowId === currentTimeflowId);
  return (current.length ? current : snapshots).at(-1) ?? null;
}

/** Deletes a snapshot nothing was cloned from. */
export async function deleteSnapshot(ctx: ServiceContext, id: string) {
  const snapshot = await ctx.model.snapshots.require(id);
  const provisioning = (await ctx.model.vdbs.list()).filter(
    (vdb) => vdb.provisionedFromSnapshotId === snapshot.id && vdb.status === 'PROVISIONING',
  );
  const dependents = [
    ...(await snapshotDependents(ctx.model, snapshot.id)),
    ...provisioning.map((vdb) => ({ type: 'vdb' as const, id: vdb.id, name: vdb.name })),
  ];
  refuseIfDependents(`Snapshot ${snapshot.id}`, dependents, 'Delete or refresh the VDBs using it first.');
  await refuseIfBookmarked(ctx, snapshot.id);
  await refuseIfLocked(
    ctx,
    snapshot.ownerType,
    snapshot.ownerId,
    `The ${snapshot.ownerType === 'vdb' ? 'VDB' : 'dSource'} of snapshot ${snapshot.id}`,
  );
  await ctx.storage.destroySnapshot(snapshot.id);
  await ctx.model.snapshots.delete(snapshot.id);
  return { deleted: present(snapshot) };
}
