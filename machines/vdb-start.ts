import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { output, step } from './lifecycle/dvx-steps.js';
import { hookStep, postHookStep, vdbObject } from './lifecycle/hook-steps.js';
import { recordFailureStep, type RunInput } from './lifecycle/shared-steps.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import type { LifecycleContext } from './lifecycle/types.js';

export interface VdbInput extends RunInput {
  vdbId: string;
}

/** What a VDB run that fails records: the error, on the VDB (which keeps its state). */
export const recordVdbFailure = recordFailureStep<VdbInput>(vdbObject, { id: 'recordFailure', markFailed: false });

const mountSpec = step({
  id: 'mountSpec',
  src: 'plugin.virtual.mountSpecification',
  input: (c: LifecycleContext<VdbInput>) => ({ vdbId: c.input.vdbId }),
});

/** Start a VDB: make sure its storage is mounted, then the plugin's start. */
export const vdbStartLifecycle = defineLifecycle<VdbInput, DvxSteps>({
  kind: 'vdb-start',
  version: 2,
  description: 'mountSpecification -> attach if needed -> start',
  steps: [
    hookStep<VdbInput>('preStart', vdbObject),
    mountSpec,
    step({
      id: 'attach',
      src: 'mount.attachVdb',
      input: (c) => ({ vdbId: c.input.vdbId, datasetId: null, mountSpecification: output(mountSpec, c) }),
    }),
    step({ id: 'start', src: 'plugin.virtual.start', input: (c) => ({ vdbId: c.input.vdbId }) }),
    step({ id: 'markRunning', src: 'model.setVdbRunning', input: (c) => ({ vdbId: c.input.vdbId, running: true }) }),
    postHookStep<VdbInput>('postStart', vdbObject),
  ],
  onFailure: [recordVdbFailure],
});
