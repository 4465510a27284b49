import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { recordVdbFailure, type VdbInput } from './vdb-start.js';

/** Delete a VDB: unconfigure, cleanup, unmount, destroy its datasets and snapshots, remove its records. */
export const vdbDeleteLifecycle = defineLifecycle<VdbInput>({
  kind: 'vdb-delete',
  version: 1,
  description: 'unconfigure -> cleanup -> detach -> destroy datasets -> delete records',
  steps: [
    { id: 'unconfigure', src: 'plugin.virtual.unconfigure', input: (c) => ({ vdbId: c.input.vdbId }) },
    { id: 'cleanup', src: 'plugin.virtual.cleanup', input: (c) => ({ vdbId: c.input.vdbId }) },
    { id: 'detach', src: 'mount.detachVdb', input: (c) => ({ vdbId: c.input.vdbId }) },
    { id: 'destroyStorage', src: 'storage.destroyVdbStorage', input: (c) => ({ vdbId: c.input.vdbId }) },
    { id: 'deleteRecords', src: 'model.deleteVdb', input: (c) => ({ vdbId: c.input.vdbId }) },
  ],
  onFailure: [recordVdbFailure],
});
