import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { recordVdbFailure, type VdbInput } from './vdb-start.js';

/** Disable a VDB: the plugin unconfigures it, then its storage is unmounted from the target. */
export const vdbDisableLifecycle = defineLifecycle<VdbInput>({
  kind: 'vdb-disable',
  version: 1,
  description: 'unconfigure -> detach',
  steps: [
    {
      id: 'unconfigure',
      src: 'plugin.virtual.unconfigure',
      input: (c) => ({ vdbId: c.input.vdbId }),
      undo: { id: 'reconfigure', src: 'plugin.virtual.reconfigure', input: (c) => ({ vdbId: c.input.vdbId }), when: 'completed' },
    },
    { id: 'detach', src: 'mount.detachVdb', input: (c) => ({ vdbId: c.input.vdbId }) },
    { id: 'markDisabled', src: 'model.setVdbEnabled', input: (c) => ({ vdbId: c.input.vdbId, enabled: false }) },
  ],
  onFailure: [recordVdbFailure],
});
