import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { step } from './lifecycle/dvx-steps.js';
import { isStaged } from './lifecycle/shared-steps.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import { recordDsourceFailure, type DsourceInput } from './dsource-enable.js';

/** Disable a dSource: (staged) stop staging and unmount its storage from the staging host. */
export const dsourceDisableLifecycle = defineLifecycle<DsourceInput, DvxSteps>({
  kind: 'dsource-disable',
  version: 2,
  description: 'staged: stopStaging -> detach; direct: no plugin operations',
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
      id: 'markDisabled',
      src: 'model.setDsourceEnabled',
      input: (c) => ({ dsourceId: c.input.dsourceId, enabled: false }),
    }),
  ],
  onFailure: [recordDsourceFailure],
});
