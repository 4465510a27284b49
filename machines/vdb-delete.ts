import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { step } from './lifecycle/dvx-steps.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import { recordVdbFailure, type VdbInput } from './vdb-start.js';

/** Delete a VDB: unconfigure, cleanup, unmount, destroy its datasets and snapshots, remove its records. */
export const vdbDeleteLifecycle = defineLifecycle<VdbInput, DvxSteps>({
  kind: 'vdb-delete',
  version: 2,
  description: 'unconfigure -> cleanup -> detach -> destroy datasets -> delete records',
  steps: [
    step({
      id: 'unconfigure',
      src: 'plugin.virtual.unconfigure',
      input: (c) => ({ vdbId: c.input.vdbId, sourceConfig: null }),
    }),
    step({ id: 'cleanup', src: 'plugin.virtual.cleanup', input: (c) => ({ vdbId: c.input.vdbId }) }),
    step({ id: 'detach', src: 'mount.detachVdb', input: (c) => ({ vdbId: c.input.vdbId, mountSpecification: null }) }),
    step({ id: 'destroyStorage', src: 'storage.destroyVdbStorage', input: (c) => ({ vdbId: c.input.vdbId }) }),
    step({ id: 'deleteRecords', src: 'model.deleteVdb', input: (c) => ({ vdbId: c.input.vdbId }) }),
  ],
  onFailure: [recordVdbFailure],
});
