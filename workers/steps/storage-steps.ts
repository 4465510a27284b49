import { PoolSpace } from '../../storage/index.js';
import type { DvxStepHandlers } from '../step-handler.js';
import { currentDataset } from './dsource-operands.js';
import type { StepServices } from './step-services.js';

/**
 * Engine-side storage steps. Each is idempotent (the backends are), so a step repeated after a crash finds its
 * work done and succeeds. Records of storage objects are created and removed here, next to the storage itself.
 * A step that makes a snapshot, clone or dataset first checks the pool's free-space floor (the pool may have filled
 * since the request was accepted): below it the step fails with STORAGE_FREE_SPACE_LOW, not retried, and the run's
 * undo steps remove what it made. One that finds its work already done does not check.
 */
export function storageSteps(services: StepServices) {
  const { storage, model } = services;
  const space = services.space ?? new PoolSpace(storage);

  /** Destroys a dataset-owner's snapshots and timeflows (storage and records), newest first. */
  const destroyOwnedStorage = async (ownerId: string) => {
    const snapshots = await model.snapshots.listBy('ownerId', ownerId);
    for (const snapshot of snapshots.sort((a, b) => b.createdAt.localeCompare(a.createdAt))) {
      await storage.destroySnapshot(snapshot.id);
      await model.snapshots.delete(snapshot.id);
    }
    for (const timeflow of await model.timeflows.listBy('ownerId', ownerId)) {
      await storage.destroyDataset(timeflow.id);
      await model.timeflows.delete(timeflow.id);
    }
  };

  return {
    'storage.createDsourceDataset': async (input, context) => {
      if (!(await storage.hasDataset(input.datasetId))) await space.require(`dataset ${input.datasetId}`);
      await storage.createDataset(input.datasetId);
      if (!(await model.timeflows.get(input.datasetId))) {
        await model.timeflows.create({
          id: input.datasetId,
          ownerType: 'dsource',
          ownerId: input.dsourceId,
          parentSnapshotId: null,
          creationType: 'INITIAL',
          runId: context.runId,
        });
      }
      await model.dsources.update(input.dsourceId, () => ({ currentTimeflowId: input.datasetId }));
      return { datasetId: input.datasetId };
    },

    'storage.destroyDsourceStorage': async (input) => {
      await destroyOwnedStorage(input.dsourceId);
      if (await model.dsources.get(input.dsourceId))
        await model.dsources.update(input.dsourceId, () => ({ currentTimeflowId: null }));
      return null;
    },

    'storage.destroyVdbStorage': async (input) => {
      await destroyOwnedStorage(input.vdbId);
      if (await model.vdbs.get(input.vdbId)) await model.vdbs.update(input.vdbId, () => ({ currentTimeflowId: null }));
      return null;
    },

    'storage.snapshotDsource': async (input) => {
      const dsource = await model.dsources.require(input.dsourceId);
      const datasetId = currentDataset(dsource);
      if (!(await storage.hasSnapshot(input.snapshotId))) await space.require(`snapshot ${input.snapshotId}`);
      await storage.snapshot(datasetId, input.snapshotId);
      return { snapshotId: input.snapshotId, datasetId };
    },

    'storage.snapshot': async (input) => {
      if (!(await storage.hasSnapshot(input.snapshotId))) await space.require(`snapshot ${input.snapshotId}`);
      await storage.snapshot(input.datasetId, input.snapshotId);
      return { snapshotId: input.snapshotId, datasetId: input.datasetId };
    },

    'storage.destroySnapshot': async (input) => {
      await storage.destroySnapshot(input.snapshotId);
      await model.snapshots.delete(input.snapshotId);
      return null;
    },

    'storage.clone': async (input) => {
      if (!(await storage.hasDataset(input.datasetId)))
        await space.require(`clone ${input.datasetId} of snapshot ${input.snapshotId}`);
      await storage.clone(input.snapshotId, input.datasetId);
      return { datasetId: input.datasetId };
    },

    'storage.destroyDataset': async (input) => {
      await storage.destroyDataset(input.datasetId);
      await model.timeflows.delete(input.datasetId);
      return null;
    },
  } satisfies Partial<DvxStepHandlers>;
}
