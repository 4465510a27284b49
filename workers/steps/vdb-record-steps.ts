import type { TimeflowRecord } from '../../model/timeflow.js';
import type { DvxStepHandlers } from '../step-handler.js';
import type { StepServices } from './step-services.js';

/** VDB records: state after a run's steps, timeflows and snapshots. */
export function vdbRecordSteps(services: StepServices) {
  const { model } = services;

  const ensureTimeflow = async (timeflow: Omit<TimeflowRecord, 'rev' | 'createdAt' | 'updatedAt'>) => {
    if (!(await model.timeflows.get(timeflow.id))) await model.timeflows.create(timeflow);
  };

  return {
    'model.activateVdb': async (input) => {
      await ensureTimeflow({
        id: input.datasetId,
        ownerType: 'vdb',
        ownerId: input.vdbId,
        parentSnapshotId: input.snapshotId,
        creationType: 'PROVISION',
        runId: input.runId,
      });
      await model.vdbs.update(input.vdbId, () => ({
        currentTimeflowId: input.datasetId,
        sourceConfig: input.sourceConfig,
        status: 'READY',
        enabled: true,
        running: true,
        lastRunId: input.runId,
        lastError: null,
      }));
      return null;
    },

    'model.switchVdbTimeflow': async (input) => {
      await ensureTimeflow({
        id: input.datasetId,
        ownerType: 'vdb',
        ownerId: input.vdbId,
        parentSnapshotId: input.snapshotId,
        creationType: input.creationType,
        runId: input.runId,
      });
      await model.vdbs.update(input.vdbId, (vdb) => ({
        currentTimeflowId: input.datasetId,
        sourceConfig: input.sourceConfig ?? vdb.sourceConfig,
        ...(input.creationType === 'REFRESH' ? { provisionedFromSnapshotId: input.snapshotId } : {}),
        // configure or reconfigure has just brought the database up on the new timeflow.
        running: true,
        lastRunId: input.runId,
        lastError: null,
      }));
      return null;
    },

    'model.recordVdbSnapshot': async (input) => {
      if (!(await model.snapshots.get(input.snapshotId))) {
        await model.snapshots.create({
          id: input.snapshotId,
          ownerType: 'vdb',
          ownerId: input.vdbId,
          timeflowId: input.datasetId,
          metadata: input.metadata ?? {},
          runId: input.runId,
        });
      }
      return { snapshotId: input.snapshotId };
    },

    'model.setVdbRunning': async (input, context) => {
      await model.vdbs.update(input.vdbId, () => ({
        running: input.running,
        lastRunId: context.runId,
        lastError: null,
      }));
      return null;
    },

    'model.setVdbEnabled': async (input, context) => {
      await model.vdbs.update(input.vdbId, () => ({
        enabled: input.enabled,
        // An enable found the database active or reconfigured it, which brings it up; a disable unconfigured it.
        running: input.enabled,
        ...(input.sourceConfig ? { sourceConfig: input.sourceConfig } : {}),
        lastRunId: context.runId,
        lastError: null,
      }));
      return null;
    },

    'model.deleteVdb': async (input) => {
      for (const snapshot of await model.snapshots.listBy('ownerId', input.vdbId))
        await model.snapshots.delete(snapshot.id);
      for (const timeflow of await model.timeflows.listBy('ownerId', input.vdbId))
        await model.timeflows.delete(timeflow.id);
      for (const hook of await model.hooks.listBy('objectId', input.vdbId)) await model.hooks.delete(hook.id);
      await model.vdbs.delete(input.vdbId);
      return null;
    },
  } satisfies Partial<DvxStepHandlers>;
}
