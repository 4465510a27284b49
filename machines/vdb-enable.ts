import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { output, step } from './lifecycle/dvx-steps.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import type { LifecycleContext } from './lifecycle/types.js';
import { recordVdbFailure, type VdbInput } from './vdb-start.js';

type C = LifecycleContext<VdbInput>;

const status = step({ id: 'status', src: 'plugin.virtual.status', input: (c: C) => ({ vdbId: c.input.vdbId }) });
const inactive = (c: C) => output(status, c) !== 'ACTIVE';
const mountSpec = step({
  id: 'mountSpec',
  src: 'plugin.virtual.mountSpecification',
  when: inactive,
  input: (c: C) => ({ vdbId: c.input.vdbId }),
});
const reconfigure = step({
  id: 'reconfigure',
  src: 'plugin.virtual.reconfigure',
  when: inactive,
  input: (c: C) => ({ vdbId: c.input.vdbId, snapshotId: null }),
});

/** Enable a VDB: if the plugin says it is not active, mount its storage and let the plugin reconfigure it. */
export const vdbEnableLifecycle = defineLifecycle<VdbInput, DvxSteps>({
  kind: 'vdb-enable',
  version: 2,
  description: 'status; if INACTIVE: mountSpecification -> attach -> reconfigure',
  steps: [
    status,
    mountSpec,
    step({
      id: 'attach',
      src: 'mount.attachVdb',
      when: inactive,
      input: (c) => ({ vdbId: c.input.vdbId, datasetId: null, mountSpecification: output(mountSpec, c) }),
      undo: {
        id: 'detach',
        src: 'mount.detachVdb',
        input: (c) => ({ vdbId: c.input.vdbId, mountSpecification: output(mountSpec, c) }),
      },
    }),
    reconfigure,
    step({
      id: 'markEnabled',
      src: 'model.setVdbEnabled',
      input: (c) => ({ vdbId: c.input.vdbId, enabled: true, sourceConfig: output(reconfigure, c) }),
    }),
  ],
  onFailure: [recordVdbFailure],
});
