import { hookStep, postHookStep, vdbObject } from './lifecycle/hook-steps.js';
import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { recordVdbFailure, type VdbInput } from './vdb-start.js';

/** Stop a VDB: the plugin's stop; the storage stays mounted. */
export const vdbStopLifecycle = defineLifecycle<VdbInput>({
  kind: 'vdb-stop',
  version: 1,
  description: 'stop',
  steps: [
    hookStep<VdbInput>('preStop', vdbObject),
    { id: 'stop', src: 'plugin.virtual.stop', input: (c) => ({ vdbId: c.input.vdbId }) },
    { id: 'markStopped', src: 'model.setVdbRunning', input: (c) => ({ vdbId: c.input.vdbId, running: false }) },
    postHookStep<VdbInput>('postStop', vdbObject),
  ],
  onFailure: [recordVdbFailure],
});
