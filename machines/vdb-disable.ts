import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { step } from './lifecycle/dvx-steps.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import { recordVdbFailure, type VdbInput } from './vdb-start.js';

/** Disable a VDB: the plugin unconfigures it, then its storage is unmounted from the target. */
export const vdbDisableLifecycle = defineLifecycle<VdbInput, DvxSteps>({
  kind: 'vdb-disable',
  version: 2,
  description: 'unconfigure -> detach',
  steps: [
    step({
      id: 'unconfigure',
      src: 'plugin.virtual.unconfigure',
      input: (c) => ({ vdbId: c.input.vdbId, sourceConfig: null }),
      undo: {
        id: 'reconfigure',
        src: 'plugin.virtual.reconfigure',
        input: (c) => ({ vdbId: c.input.vdbId, snapshotId: null }),
        when: 'completed',
      },
    }),
    step({ id: 'detach', src: 'mount.detachVdb', input: (c) => ({ vdbId: c.input.vdbId, mountSpecification: null }) }),
    step({
      id: 'markDisabled',
      src: 'model.setVdbEnabled',
      input: (c) => ({ vdbId: c.input.vdbId, enabled: false, sourceConfig: null }),
    }),
  ],
  onFailure: [recordVdbFailure],
});
