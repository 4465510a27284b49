import { timeflowIdOf } from '../../machines/lifecycle/shared-steps.js';
import type { ResolvedMount } from '../../model/dsource.js';
import type { DvxStepHandlers } from '../step-handler.js';
import { environmentMounts } from './environment-mounts.js';
import type { StepServices } from './step-services.js';
import { storedError } from './stored-error.js';

/**
 * Records a run's failure on its dSource or VDB: the run and its error. A link or provision that failed
 * (`markFailed`: the object never worked) whose undo chain left nothing behind removes the object's records: only its
 * run is left, with the error. If storage or a mount is left (an undo failed), the object stays, FAILED and disabled,
 * so that a delete can clean up. The object may be gone (a delete that failed after removing its records): then there
 * is nothing to record on.
 */
export function recordFailureSteps(services: StepServices) {
  const { model, storage } = services;

  const attached = async (mounts: ResolvedMount[] | null) => {
    for (const mount of mounts ?? []) {
      const still = await environmentMounts(services, mount.environmentId)
        .then(({ connection, transport }) => transport.isAttached({ connection, mountPath: mount.mountPath }))
        .catch(() => true);
      if (still) return true;
    }
    return false;
  };

  /** Whether the failed create of `ownerId` by `runId` left storage or a mount behind. */
  const leftBehind = async (ownerId: string, runId: string, mounts: ResolvedMount[] | null) => {
    for (const snapshot of await model.snapshots.listBy('ownerId', ownerId))
      if (await storage.hasSnapshot(snapshot.id)) return true;
    const datasets = [timeflowIdOf(runId), ...(await model.timeflows.listBy('ownerId', ownerId)).map((t) => t.id)];
    for (const dataset of datasets) if (await storage.hasDataset(dataset)) return true;
    return attached(mounts);
  };

  const deleteRecords = async (ownerId: string) => {
    for (const snapshot of await model.snapshots.listBy('ownerId', ownerId)) await model.snapshots.delete(snapshot.id);
    for (const timeflow of await model.timeflows.listBy('ownerId', ownerId)) await model.timeflows.delete(timeflow.id);
    for (const hook of await model.hooks.listBy('objectId', ownerId)) await model.hooks.delete(hook.id);
  };

  return {
    'model.recordFailure': async (input) => {
      const recorded = { lastRunId: input.runId, lastError: input.error ? storedError(input.error) : null };
      const failed = { status: 'FAILED' as const, enabled: false };
      if (input.objectType === 'vdb') {
        const vdb = await model.vdbs.get(input.objectId);
        if (!vdb) return null;
        if (input.markFailed && !(await leftBehind(vdb.id, input.runId, vdb.mounts))) {
          await deleteRecords(vdb.id);
          await model.vdbs.delete(vdb.id);
          return null;
        }
        await model.vdbs.update(input.objectId, () => ({
          ...(input.markFailed ? { ...failed, running: false, mounts: null } : {}),
          ...recorded,
        }));
      } else {
        const dsource = await model.dsources.get(input.objectId);
        if (!dsource) return null;
        if (input.markFailed && !(await leftBehind(dsource.id, input.runId, dsource.stagingMounts))) {
          await deleteRecords(dsource.id);
          await model.dsources.delete(dsource.id);
          return null;
        }
        await model.dsources.update(input.objectId, () => ({ ...(input.markFailed ? failed : {}), ...recorded }));
      }
      return null;
    },
  } satisfies Partial<DvxStepHandlers>;
}
