import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import type { LifecycleContext } from './lifecycle/types.js';
import { recordVdbFailure, type VdbInput } from './vdb-start.js';

const inactive = (c: LifecycleContext<VdbInput>) => c.results.status !== 'ACTIVE';

/** Enable a VDB: if the plugin says it is not active, mount its storage and let the plugin reconfigure it. */
export const vdbEnableLifecycle = defineLifecycle<VdbInput>({
  kind: 'vdb-enable',
  version: 1,
  description: 'status; if INACTIVE: mountSpecification -> attach -> reconfigure',
  steps: [
    { id: 'status', src: 'plugin.virtual.status', input: (c) => ({ vdbId: c.input.vdbId }) },
    { id: 'mountSpec', src: 'plugin.virtual.mountSpecification', when: inactive, input: (c) => ({ vdbId: c.input.vdbId }) },
    {
      id: 'attach',
      src: 'mount.attachVdb',
      when: inactive,
      input: (c) => ({ vdbId: c.input.vdbId, mountSpecification: c.results.mountSpec ?? null }),
      undo: { id: 'detach', src: 'mount.detachVdb', input: (c) => ({ vdbId: c.input.vdbId, mountSpecification: c.results.mountSpec ?? null }) },
    },
    { id: 'reconfigure', src: 'plugin.virtual.reconfigure', when: inactive, input: (c) => ({ vdbId: c.input.vdbId }) },
    {
      id: 'markEnabled',
      src: 'model.setVdbEnabled',
      input: (c) => ({ vdbId: c.input.vdbId, enabled: true, sourceConfig: c.results.reconfigure ?? null }),
    },
  ],
  onFailure: [recordVdbFailure],
});
