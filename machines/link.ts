import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { output, step } from './lifecycle/dvx-steps.js';
import { dsourceObject } from './lifecycle/hook-steps.js';
import { isStaged, recordFailureStep, timeflowIdOf } from './lifecycle/shared-steps.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import type { LifecycleContext } from './lifecycle/types.js';
import { syncSteps, type SyncInput } from './sync.js';

export type LinkInput = SyncInput;

const mountSpec = step({
  id: 'linkMountSpec',
  src: 'plugin.linked.mountSpecification',
  when: isStaged,
  input: (c: LifecycleContext<LinkInput>) => ({ dsourceId: c.input.dsourceId }),
});

/** Link a source config as a dSource: create its storage, start staging, then the initial sync as a resync. */
export const linkLifecycle = defineLifecycle<LinkInput, DvxSteps>({
  kind: 'link',
  version: 2,
  description:
    'create dSource storage -> (staged) mountSpecification -> attach -> startStaging -> initial sync with resync = true',
  steps: [
    step({
      id: 'createStorage',
      src: 'storage.createDsourceDataset',
      input: (c) => ({ dsourceId: c.input.dsourceId, datasetId: timeflowIdOf(c.input.runId) }),
      undo: {
        id: 'destroyStorage',
        src: 'storage.destroyDsourceStorage',
        input: (c) => ({ dsourceId: c.input.dsourceId }),
      },
    }),
    mountSpec,
    step({
      id: 'linkAttach',
      src: 'mount.attachStaging',
      when: isStaged,
      input: (c) => ({ dsourceId: c.input.dsourceId, mountSpecification: output(mountSpec, c) }),
      undo: { id: 'linkDetach', src: 'mount.detachStaging', input: (c) => ({ dsourceId: c.input.dsourceId }) },
    }),
    step({
      id: 'startStaging',
      src: 'plugin.linked.startStaging',
      when: isStaged,
      input: (c) => ({ dsourceId: c.input.dsourceId }),
      undo: {
        id: 'undoStartStaging',
        src: 'plugin.linked.stopStaging',
        input: (c) => ({ dsourceId: c.input.dsourceId }),
        when: 'completed',
      },
    }),
    ...syncSteps<LinkInput>({ attachStaging: false }),
    step({ id: 'markLinked', src: 'model.markDsourceLinked', input: (c) => ({ dsourceId: c.input.dsourceId }) }),
  ],
  onFailure: [recordFailureStep<LinkInput>(dsourceObject, { id: 'markFailed', markFailed: true })],
});
