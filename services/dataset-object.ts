import { NotFoundError } from '../errors/index.js';
import type { ServiceContext } from './service-context.js';

/** A dSource or a VDB, found by id or name. */
export interface DatasetObject {
  type: 'dsource' | 'vdb';
  id: string;
  name: string;
}

export async function findDatasetObject(ctx: ServiceContext, ref: string): Promise<DatasetObject> {
  const dsource = await ctx.model.dsources.find(ref);
  if (dsource) return { type: 'dsource', id: dsource.id, name: dsource.name };
  const vdb = await ctx.model.vdbs.find(ref);
  if (vdb) return { type: 'vdb', id: vdb.id, name: vdb.name };
  throw new NotFoundError('dSource or VDB', ref, 'See `dvx dsource list` and `dvx vdb list`.');
}
