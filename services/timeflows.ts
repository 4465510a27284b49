import type { TimeflowRecord } from '../model/timeflow.js';
import { findDatasetObject } from './dataset-object.js';
import type { ServiceContext } from './service-context.js';

/** The timeflows of a dSource or VDB, oldest first: each line of its history and the snapshot it started from. */
export async function listTimeflows(ctx: ServiceContext, owner: string): Promise<TimeflowRecord[]> {
  const { id } = await findDatasetObject(ctx, owner);
  return (await ctx.model.timeflows.listBy('ownerId', id)).sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
  );
}
