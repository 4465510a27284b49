import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { output, step } from './lifecycle/dvx-steps.js';
import { dsourceObject } from './lifecycle/hook-steps.js';
import type { PluginType } from './lifecycle/plugin-type.js';
import { isStaged, recordFailureStep, type RunInput } from './lifecycle/shared-steps.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import type { LifecycleContext } from './lifecycle/types.js';

export interface DsourceInput extends RunInput {
  dsourceId: string;
  pluginType: PluginType;
}

/** What a dSource run that fails records: the error, on the dSource (which keeps its state). */
export const recordDsourceFailure = recordFailureStep<DsourceInput>(dsourceObject, {
  id: 'recordFailure',
  markFailed: false,
});

const mountSpec = step({
  id: 'mountSpec',
  src: 'plugin.linked.mountSpecification',
  when: isStaged,
  input: (c: LifecycleContext<DsourceInput>) => ({ dsourceId: c.input.dsourceId }),
});

/** Enable a dSource: (staged) mount its storage on the staging host and start staging. */
export const dsourceEnableLifecycle = defineLifecycle<DsourceInput, DvxSteps>({
  kind: 'dsource-enable',
  version: 2,
  description: 'staged: mountSpecification -> attach -> startStaging; direct: no plugin operations',
  steps: [
    mountSpec,
    step({
      id: 'attach',
      src: 'mount.attachStaging',
      when: isStaged,
      input: (c) => ({ dsourceId: c.input.dsourceId, mountSpecification: output(mountSpec, c) }),
      undo: { id: 'detach', src: 'mount.detachStaging', input: (c) => ({ dsourceId: c.input.dsourceId }) },
    }),
    step({
      id: 'startStaging',
      src: 'plugin.linked.startStaging',
      when: isStaged,
      input: (c) => ({ dsourceId: c.input.dsourceId }),
    }),
    step({
      id: 'markEnabled',
      src: 'model.setDsourceEnabled',
      input: (c) => ({ dsourceId: c.input.dsourceId, enabled: true }),
    }),
  ],
  onFailure: [recordDsourceFailure],
});
