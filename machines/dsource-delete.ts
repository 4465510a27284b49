import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { step } from './lifecycle/dvx-steps.js';
import { isStaged } from './lifecycle/shared-steps.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import { recordDsourceFailure, type DsourceInput } from './dsource-enable.js';

/** Delete a dSource that no VDB depends on: stop staging, unmount, destroy its storage, remove its records. */
export const dsourceDeleteLifecycle = defineLifecycle<DsourceInput, DvxSteps>({
  kind: 'dsource-delete',
  version: 2,
  description: 'staged: stopStaging -> detach; then destroy storage -> delete records',
  steps: [
    step({
      id: 'stopStaging',
      src: 'plugin.linked.stopStaging',
      when: isStaged,
      input: (c) => ({ dsourceId: c.input.dsourceId }),
    }),
    step({
      id: 'detach',
      src: 'mount.detachStaging',
      when: isStaged,
      input: (c) => ({ dsourceId: c.input.dsourceId }),
    }),
    step({
      id: 'destroyStorage',
      src: 'storage.destroyDsourceStorage',
      input: (c) => ({ dsourceId: c.input.dsourceId }),
    }),
    step({ id: 'deleteRecords', src: 'model.deleteDsource', input: (c) => ({ dsourceId: c.input.dsourceId }) }),
  ],
  onFailure: [recordDsourceFailure],
});
