import type { SerializedError } from '../../errors/index.js';
import type { TimeflowRecord } from '../../model/timeflow.js';
import type { StepContext, StepHandlers } from '../step-handler.js';
import type { StepServices } from './step-services.js';

/** VDB records: state after a run's steps, timeflows and snapshots. */
export function vdbRecordSteps(services: StepServices): StepHandlers {
  const { model } = services;

  const ensureTimeflow = async (timeflow: Omit<TimeflowRecord, 'rev' | 'createdAt' | 'updatedAt'>) => {
    if (!(await model.timeflows.get(timeflow.id))) await model.timeflows.create(timeflow);
  };

  return {
    'model.activateVdb': (async (input: { vdbId: string; datasetId: string; snapshotId: string; sourceConfig: Record<string, unknown> | null; runId: string }) => {
      await ensureTimeflow({ id: input.datasetId, ownerType: 'vdb', ownerId: input.vdbId, parentSnapshotId: input.snapshotId, creationType: 'PROVISION', runId: input.runId });
      await model.vdbs.update(input.vdbId, () => ({ currentTimeflowId: input.datasetId, sourceConfig: input.sourceConfig, status: 'READY', enabled: true, running: true, lastRunId: input.runId, lastError: null }));
      return null;
    }) as never,

    'model.switchVdbTimeflow': (async (input: { vdbId: string; datasetId: string; snapshotId: string; sourceConfig: Record<string, unknown> | null; creationType: 'ROLLBACK' | 'REFRESH'; runId: string }) => {
      await ensureTimeflow({ id: input.datasetId, ownerType: 'vdb', ownerId: input.vdbId, parentSnapshotId: input.snapshotId, creationType: input.creationType, runId: input.runId });
      await model.vdbs.update(input.vdbId, (vdb) => ({
        currentTimeflowId: input.datasetId,
        sourceConfig: input.sourceConfig ?? vdb.sourceConfig,
        ...(input.creationType === 'REFRESH' ? { provisionedFromSnapshotId: input.snapshotId } : {}),
        lastRunId: input.runId,
        lastError: null,
      }));
      return null;
    }) as never,

    'model.recordVdbSnapshot': (async (input: { vdbId: string; snapshotId: string; datasetId: string; metadata: Record<string, unknown> | null; runId: string }) => {
      if (!(await model.snapshots.get(input.snapshotId))) {
        await model.snapshots.create({ id: input.snapshotId, ownerType: 'vdb', ownerId: input.vdbId, timeflowId: input.datasetId, metadata: input.metadata ?? {}, runId: input.runId });
      }
      return { snapshotId: input.snapshotId };
    }) as never,

    'model.markVdbFailed': (async (input: { vdbId: string; error: SerializedError | null; runId: string }) => {
      if (await model.vdbs.get(input.vdbId)) await model.vdbs.update(input.vdbId, () => ({ status: 'FAILED', enabled: false, running: false, mounts: null, lastRunId: input.runId, lastError: input.error }));
      return null;
    }) as never,

    'model.recordVdbFailure': (async (input: { vdbId: string; error: SerializedError | null; runId: string }) => {
      if (await model.vdbs.get(input.vdbId)) await model.vdbs.update(input.vdbId, () => ({ lastRunId: input.runId, lastError: input.error }));
      return null;
    }) as never,

    'model.setVdbRunning': (async (input: { vdbId: string; running: boolean }, context: StepContext) => {
      await model.vdbs.update(input.vdbId, () => ({ running: input.running, lastRunId: context.runId, lastError: null }));
      return null;
    }) as never,

    'model.setVdbEnabled': (async (input: { vdbId: string; enabled: boolean; sourceConfig?: Record<string, unknown> | null }, context: StepContext) => {
      await model.vdbs.update(input.vdbId, (vdb) => ({
        enabled: input.enabled,
        running: input.enabled ? vdb.running : false,
        ...(input.sourceConfig ? { sourceConfig: input.sourceConfig } : {}),
        lastRunId: context.runId,
        lastError: null,
      }));
      return null;
    }) as never,

    'model.deleteVdb': (async (input: { vdbId: string }) => {
      for (const snapshot of await model.snapshots.listBy('ownerId', input.vdbId)) await model.snapshots.delete(snapshot.id);
      for (const timeflow of await model.timeflows.listBy('ownerId', input.vdbId)) await model.timeflows.delete(timeflow.id);
      for (const hook of await model.hooks.listBy('objectId', input.vdbId)) await model.hooks.delete(hook.id);
      await model.vdbs.delete(input.vdbId);
      return null;
    }) as never,
  };
}
