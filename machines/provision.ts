import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { hookStep, vdbObject } from './lifecycle/hook-steps.js';
import { timeflowIdOf, vdbSnapshotSteps, type RunInput } from './lifecycle/shared-steps.js';

export interface ProvisionInput extends RunInput {
  vdbId: string;
  /** The snapshot (of a dSource or a VDB) the VDB is cloned from. */
  snapshotId: string;
}

const datasetOf = (c: { input: ProvisionInput }) => timeflowIdOf(c.input.runId);

/** Provision a VDB: clone a snapshot, mount it on the target, let the plugin configure it, take its first snapshot. */
export const provisionLifecycle = defineLifecycle<ProvisionInput>({
  kind: 'provision',
  version: 1,
  description: 'mountSpecification -> clone snapshot -> attach to target -> configure -> first VDB snapshot',
  steps: [
    { id: 'mountSpec', src: 'plugin.virtual.mountSpecification', input: (c) => ({ vdbId: c.input.vdbId }) },
    {
      id: 'clone',
      src: 'storage.clone',
      input: (c) => ({ vdbId: c.input.vdbId, snapshotId: c.input.snapshotId, datasetId: datasetOf(c) }),
      undo: { id: 'destroyClone', src: 'storage.destroyDataset', input: (c) => ({ datasetId: datasetOf(c) }) },
    },
    {
      id: 'attach',
      src: 'mount.attachVdb',
      input: (c) => ({ vdbId: c.input.vdbId, datasetId: datasetOf(c), mountSpecification: c.results.mountSpec ?? null }),
      undo: { id: 'detach', src: 'mount.detachVdb', input: (c) => ({ vdbId: c.input.vdbId, mountSpecification: c.results.mountSpec ?? null }) },
    },
    {
      id: 'configure',
      src: 'plugin.virtual.configure',
      input: (c) => ({ vdbId: c.input.vdbId, snapshotId: c.input.snapshotId, datasetId: datasetOf(c), mountSpecification: c.results.mountSpec ?? null }),
      undo: {
        id: 'unconfigure',
        src: 'plugin.virtual.unconfigure',
        input: (c) => ({ vdbId: c.input.vdbId, sourceConfig: c.results.configure ?? null }),
        when: 'completed',
      },
    },
    hookStep<ProvisionInput>('configureClone', vdbObject),
    {
      id: 'activate',
      src: 'model.activateVdb',
      input: (c) => ({ vdbId: c.input.vdbId, datasetId: datasetOf(c), snapshotId: c.input.snapshotId, sourceConfig: c.results.configure ?? null, mountSpecification: c.results.mountSpec ?? null, runId: c.input.runId }),
    },
    ...vdbSnapshotSteps<ProvisionInput>(datasetOf),
  ],
  onFailure: [{ id: 'markFailed', src: 'model.markVdbFailed', input: (c) => ({ vdbId: c.input.vdbId, error: c.error, runId: c.input.runId }) }],
});
