import type { SerializedError } from '../../errors/index.js';
import type { StepContext, StepHandlers } from '../step-handler.js';
import type { StepServices } from './step-services.js';

/** dSource records: state after a run's steps, and the snapshots syncs take. */
export function dsourceRecordSteps(services: StepServices): StepHandlers {
  const { model } = services;
  return {
    'model.recordDsourceSnapshot': (async (input: { dsourceId: string; snapshotId: string; metadata: Record<string, unknown> | null; runId: string }) => {
      const dsource = await model.dsources.require(input.dsourceId);
      if (!(await model.snapshots.get(input.snapshotId))) {
        // metadata arrives sealed: the postSnapshot step sealed its password fields.
        await model.snapshots.create({ id: input.snapshotId, ownerType: 'dsource', ownerId: dsource.id, timeflowId: dsource.currentTimeflowId!, metadata: input.metadata ?? {}, runId: input.runId });
      }
      await model.dsources.update(dsource.id, () => ({ lastRunId: input.runId, lastError: null }));
      return { snapshotId: input.snapshotId };
    }) as never,

    'model.markDsourceLinked': (async (input: { dsourceId: string }, context: StepContext) => {
      await model.dsources.update(input.dsourceId, () => ({ status: 'ACTIVE', enabled: true, lastRunId: context.runId, lastError: null }));
      return null;
    }) as never,

    'model.markDsourceFailed': (async (input: { dsourceId: string; error: SerializedError | null; runId: string }) => {
      if (await model.dsources.get(input.dsourceId)) await model.dsources.update(input.dsourceId, () => ({ status: 'FAILED', enabled: false, lastRunId: input.runId, lastError: input.error }));
      return null;
    }) as never,

    'model.recordDsourceFailure': (async (input: { dsourceId: string; error: SerializedError | null; runId: string }) => {
      if (await model.dsources.get(input.dsourceId)) await model.dsources.update(input.dsourceId, () => ({ lastRunId: input.runId, lastError: input.error }));
      return null;
    }) as never,

    'model.setDsourceEnabled': (async (input: { dsourceId: string; enabled: boolean }, context: StepContext) => {
      await model.dsources.update(input.dsourceId, () => ({ enabled: input.enabled, lastRunId: context.runId, lastError: null }));
      return null;
    }) as never,

    'model.deleteDsource': (async (input: { dsourceId: string }) => {
      for (const snapshot of await model.snapshots.listBy('ownerId', input.dsourceId)) await model.snapshots.delete(snapshot.id);
      for (const timeflow of await model.timeflows.listBy('ownerId', input.dsourceId)) await model.timeflows.delete(timeflow.id);
      for (const hook of await model.hooks.listBy('objectId', input.dsourceId)) await model.hooks.delete(hook.id);
      await model.dsources.delete(input.dsourceId);
      return null;
    }) as never,
  };
}
