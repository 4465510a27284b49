import type { DvxStepHandlers } from '../step-handler.js';
import type { StepServices } from './step-services.js';
import { storedError } from './stored-error.js';

/**
 * Records a run's failure on its dSource or VDB: the run and its error, and with `markFailed` (a link or provision
 * that failed: the object never worked) the object left FAILED and disabled. The object may be gone (a delete that
 * failed after removing its records): then there is nothing to record on.
 */
export function recordFailureSteps(services: StepServices) {
  const { model } = services;
  return {
    'model.recordFailure': async (input) => {
      const recorded = { lastRunId: input.runId, lastError: input.error ? storedError(input.error) : null };
      const failed = { status: 'FAILED' as const, enabled: false };
      if (input.objectType === 'vdb') {
        if (await model.vdbs.get(input.objectId))
          await model.vdbs.update(input.objectId, () => ({
            ...(input.markFailed ? { ...failed, running: false, mounts: null } : {}),
            ...recorded,
          }));
      } else if (await model.dsources.get(input.objectId)) {
        await model.dsources.update(input.objectId, () => ({ ...(input.markFailed ? failed : {}), ...recorded }));
      }
      return null;
    },
  } satisfies Partial<DvxStepHandlers>;
}
