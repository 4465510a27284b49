import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { isStaged } from './lifecycle/shared-steps.js';
import type { DsourceInput } from './dsource-enable.js';

/** Disable a dSource: (staged) stop staging and unmount its storage from the staging host. */
export const dsourceDisableLifecycle = defineLifecycle<DsourceInput>({
  kind: 'dsource-disable',
  version: 1,
  description: 'staged: stopStaging -> detach; direct: no plugin operations',
  steps: [
    { id: 'stopStaging', src: 'plugin.linked.stopStaging', when: isStaged, input: (c) => ({ dsourceId: c.input.dsourceId }) },
    { id: 'detach', src: 'mount.detachStaging', when: isStaged, input: (c) => ({ dsourceId: c.input.dsourceId }) },
    { id: 'markDisabled', src: 'model.setDsourceEnabled', input: (c) => ({ dsourceId: c.input.dsourceId, enabled: false }) },
  ],
  onFailure: [{ id: 'recordFailure', src: 'model.recordDsourceFailure', input: (c) => ({ dsourceId: c.input.dsourceId, error: c.error, runId: c.input.runId }) }],
});
