import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { isStaged, timeflowIdOf } from './lifecycle/shared-steps.js';
import { syncSteps, type SyncInput } from './sync.js';

export type LinkInput = SyncInput;

/** Link a source config as a dSource: create its storage, start staging, then the initial sync as a resync. */
export const linkLifecycle = defineLifecycle<LinkInput>({
  kind: 'link',
  version: 1,
  description: 'create dSource storage -> (staged) mountSpecification -> attach -> startStaging -> initial sync with resync = true',
  steps: [
    {
      id: 'createStorage',
      src: 'storage.createDsourceDataset',
      input: (c) => ({ dsourceId: c.input.dsourceId, datasetId: timeflowIdOf(c.input.runId) }),
      undo: { id: 'destroyStorage', src: 'storage.destroyDsourceStorage', input: (c) => ({ dsourceId: c.input.dsourceId }) },
    },
    { id: 'linkMountSpec', src: 'plugin.linked.mountSpecification', when: isStaged, input: (c) => ({ dsourceId: c.input.dsourceId }) },
    {
      id: 'linkAttach',
      src: 'mount.attachStaging',
      when: isStaged,
      input: (c) => ({ dsourceId: c.input.dsourceId, mountSpecification: c.results.linkMountSpec ?? null }),
      undo: { id: 'linkDetach', src: 'mount.detachStaging', input: (c) => ({ dsourceId: c.input.dsourceId }) },
    },
    {
      id: 'startStaging',
      src: 'plugin.linked.startStaging',
      when: isStaged,
      input: (c) => ({ dsourceId: c.input.dsourceId }),
      undo: { id: 'undoStartStaging', src: 'plugin.linked.stopStaging', input: (c) => ({ dsourceId: c.input.dsourceId }), when: 'completed' },
    },
    ...syncSteps<LinkInput>({ attachStaging: false }),
    { id: 'markLinked', src: 'model.markDsourceLinked', input: (c) => ({ dsourceId: c.input.dsourceId }) },
  ],
  onFailure: [{ id: 'markFailed', src: 'model.markDsourceFailed', input: (c) => ({ dsourceId: c.input.dsourceId, error: c.error, runId: c.input.runId }) }],
});
