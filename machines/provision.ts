import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { output, step } from './lifecycle/dvx-steps.js';
import { hookStep, vdbObject } from './lifecycle/hook-steps.js';
import { recordFailureStep, timeflowIdOf, vdbSnapshotSteps, type RunInput } from './lifecycle/shared-steps.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import type { LifecycleContext } from './lifecycle/types.js';

export interface ProvisionInput extends RunInput {
  vdbId: string;
  /** The snapshot (of a dSource or a VDB) the VDB is cloned from. */
  snapshotId: string;
}

type C = LifecycleContext<ProvisionInput>;

const datasetOf = (c: { input: ProvisionInput }) => timeflowIdOf(c.input.runId);

/** Resolved once, taken by attach, configure and (undoing attach) detach. */
const mountSpec = step({
  id: 'mountSpec',
  src: 'plugin.virtual.mountSpecification',
  input: (c: C) => ({ vdbId: c.input.vdbId }),
});
/** Its undo reads its own output, so its id and handler are named before it. */
const configureStep = { id: 'configure', src: 'plugin.virtual.configure' } as const;
const configure = step({
  ...configureStep,
  input: (c: C) => ({ vdbId: c.input.vdbId, snapshotId: c.input.snapshotId, mountSpecification: output(mountSpec, c) }),
  undo: {
    id: 'unconfigure',
    src: 'plugin.virtual.unconfigure',
    input: (c) => ({ vdbId: c.input.vdbId, sourceConfig: output(configureStep, c) }),
    when: 'completed',
  },
});

/** Provision a VDB: clone a snapshot, mount it on the target, let the plugin configure it, take its first snapshot. */
export const provisionLifecycle = defineLifecycle<ProvisionInput, DvxSteps>({
  kind: 'provision',
  version: 2,
  description: 'mountSpecification -> clone snapshot -> attach to target -> configure -> first VDB snapshot',
  steps: [
    mountSpec,
    step({
      id: 'clone',
      src: 'storage.clone',
      input: (c) => ({ snapshotId: c.input.snapshotId, datasetId: datasetOf(c) }),
      undo: { id: 'destroyClone', src: 'storage.destroyDataset', input: (c) => ({ datasetId: datasetOf(c) }) },
    }),
    step({
      id: 'attach',
      src: 'mount.attachVdb',
      input: (c) => ({ vdbId: c.input.vdbId, datasetId: datasetOf(c), mountSpecification: output(mountSpec, c) }),
      undo: {
        id: 'detach',
        src: 'mount.detachVdb',
        input: (c) => ({ vdbId: c.input.vdbId, mountSpecification: output(mountSpec, c) }),
      },
    }),
    configure,
    hookStep<ProvisionInput>('configureClone', vdbObject),
    step({
      id: 'activate',
      src: 'model.activateVdb',
      input: (c) => ({
        vdbId: c.input.vdbId,
        datasetId: datasetOf(c),
        snapshotId: c.input.snapshotId,
        sourceConfig: output(configure, c),
        runId: c.input.runId,
      }),
    }),
    ...vdbSnapshotSteps<ProvisionInput>(datasetOf),
  ],
  onFailure: [recordFailureStep<ProvisionInput>(vdbObject, { id: 'markFailed', markFailed: true })],
});
