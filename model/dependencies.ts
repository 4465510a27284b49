import { ConflictError } from '../errors/index.js';
import type { DvxModel } from './dvx-model.js';

/** Something that depends on an object and keeps it from being deleted. */
export interface Dependent {
  type: 'timeflow' | 'vdb' | 'dsource' | 'bookmark';
  id: string;
  /** Who owns a dependent timeflow, and that owner's name. */
  owner?: { type: 'dsource' | 'vdb'; id: string; name: string };
  name?: string;
}

async function ownerOf(model: DvxModel, type: 'dsource' | 'vdb', id: string) {
  const record = type === 'vdb' ? await model.vdbs.get(id) : await model.dsources.get(id);
  return { type, id, name: record?.name ?? id };
}

/** Timeflows cloned from a snapshot (VDB provisions, refreshes, rewinds): the snapshot must stay. */
export async function snapshotDependents(model: DvxModel, snapshotId: string): Promise<Dependent[]> {
  const timeflows = await model.timeflows.listBy('parentSnapshotId', snapshotId);
  return Promise.all(
    timeflows.map(async (timeflow) => ({
      type: 'timeflow' as const,
      id: timeflow.id,
      owner: await ownerOf(model, timeflow.ownerType, timeflow.ownerId),
    })),
  );
}

/** VDBs provisioned from a dSource or VDB: it cannot be deleted while they exist. */
export async function childVdbs(model: DvxModel, parentId: string): Promise<Dependent[]> {
  return (await model.vdbs.listBy('parentId', parentId)).map((vdb) => ({
    type: 'vdb' as const,
    id: vdb.id,
    name: vdb.name,
  }));
}

function describe(dependent: Dependent): string {
  if (dependent.type === 'timeflow' && dependent.owner)
    return `timeflow ${dependent.id} of ${dependent.owner.type === 'vdb' ? 'VDB' : 'dSource'} "${dependent.owner.name}"`;
  return `${dependent.type === 'vdb' ? 'VDB' : dependent.type} "${dependent.name ?? dependent.id}" (${dependent.id})`;
}

/** Refuses a deletion with HAS_DEPENDENTS, naming every dependent. */
export function refuseIfDependents(what: string, dependents: Dependent[], action: string): void {
  if (dependents.length === 0) return;
  throw new ConflictError({
    code: 'HAS_DEPENDENTS',
    message: `${what} cannot be deleted: ${dependents.map(describe).join(', ')} depend${dependents.length === 1 ? 's' : ''} on it.`,
    action,
    details: { dependents },
  });
}
