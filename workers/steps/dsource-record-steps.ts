import type { DvxStepHandlers } from '../step-handler.js';
import { currentDataset } from './dsource-operands.js';
import type { StepServices } from './step-services.js';

/** dSource records: state after a run's steps, and the snapshots syncs take. */
export function dsourceRecordSteps(services: StepServices) {
  const { model } = services;
  return {
    'model.recordDsourceSnapshot': async (input) => {
      const dsource = await model.dsources.require(input.dsourceId);
      if (!(await model.snapshots.get(input.snapshotId))) {
        // metadata arrives sealed: the postSnapshot step sealed its password fields.
        await model.snapshots.create({
          id: input.snapshotId,
          ownerType: 'dsource',
          ownerId: dsource.id,
          timeflowId: currentDataset(dsource),
          metadata: input.metadata ?? {},
          runId: input.runId,
        });
      }
      await model.dsources.update(dsource.id, () => ({ lastRunId: input.runId, lastError: null }));
      return { snapshotId: input.snapshotId };
    },

    'model.markDsourceLinked': async (input, context) => {
      await model.dsources.update(input.dsourceId, () => ({
        status: 'ACTIVE',
        enabled: true,
        lastRunId: context.runId,
        lastError: null,
      }));
      return null;
    },

    'model.setDsourceEnabled': async (input, context) => {
      await model.dsources.update(input.dsourceId, () => ({
        enabled: input.enabled,
        lastRunId: context.runId,
        lastError: null,
      }));
      return null;
    },

    'model.deleteDsource': async (input) => {
      for (const snapshot of await model.snapshots.listBy('ownerId', input.dsourceId))
        await model.snapshots.delete(snapshot.id);
      for (const timeflow of await model.timeflows.listBy('ownerId', input.dsourceId))
        await model.timeflows.delete(timeflow.id);
      for (const hook of await model.hooks.listBy('objectId', input.dsourceId)) await model.hooks.delete(hook.id);
      await model.dsources.delete(input.dsourceId);
      return null;
    },
  } satisfies Partial<DvxStepHandlers>;
}
