import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { isStaged } from './lifecycle/shared-steps.js';
import type { DsourceInput } from './dsource-enable.js';

/** Delete a dSource that no VDB depends on: stop staging, unmount, destroy its storage, remove its records. */
export const dsourceDeleteLifecycle = defineLifecycle<DsourceInput>({
  kind: 'dsource-delete',
  version: 1,
  description: 'staged: stopStaging -> detach; then destroy storage -> delete records',
  steps: [
    { id: 'stopStaging', src: 'plugin.linked.stopStaging', when: isStaged, input: (c) => ({ dsourceId: c.input.dsourceId }) },
    { id: 'detach', src: 'mount.detachStaging', when: isStaged, input: (c) => ({ dsourceId: c.input.dsourceId }) },
    { id: 'destroyStorage', src: 'storage.destroyDsourceStorage', input: (c) => ({ dsourceId: c.input.dsourceId }) },
    { id: 'deleteRecords', src: 'model.deleteDsource', input: (c) => ({ dsourceId: c.input.dsourceId }) },
  ],
  onFailure: [{ id: 'recordFailure', src: 'model.recordDsourceFailure', input: (c) => ({ dsourceId: c.input.dsourceId, error: c.error, runId: c.input.runId }) }],
});
