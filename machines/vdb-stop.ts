import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { step } from './lifecycle/dvx-steps.js';
import { hookStep, postHookStep, vdbObject } from './lifecycle/hook-steps.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import { recordVdbFailure, type VdbInput } from './vdb-start.js';

/** Stop a VDB: the plugin's stop; the storage stays mounted. */
export const vdbStopLifecycle = defineLifecycle<VdbInput, DvxSteps>({
  kind: 'vdb-stop',
  version: 2,
  description: 'stop',
  steps: [
    hookStep<VdbInput>('preStop', vdbObject),
    step({ id: 'stop', src: 'plugin.virtual.stop', input: (c) => ({ vdbId: c.input.vdbId }) }),
    step({ id: 'markStopped', src: 'model.setVdbRunning', input: (c) => ({ vdbId: c.input.vdbId, running: false }) }),
    postHookStep<VdbInput>('postStop', vdbObject),
  ],
  onFailure: [recordVdbFailure],
});
