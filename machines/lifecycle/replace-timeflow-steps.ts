import { output, step, type DvxStep } from './dvx-steps.js';
import { hookStep, vdbObject } from './hook-steps.js';
import { timeflowIdOf, vdbSnapshotSteps, type RunInput } from './shared-steps.js';
import type { LifecycleContext } from './types.js';

/** Input of runs that move a VDB onto a new timeflow cloned from a snapshot (rewind, refresh). */
export interface ReplaceTimeflowInput extends RunInput {
  vdbId: string;
  /** The snapshot the new timeflow is cloned from. */
  snapshotId: string;
  /** The VDB's dataset before the run; it is kept, and restored if the run fails. */
  previousDatasetId: string;
}

/**
 * unconfigure -> detach -> clone the snapshot as a new timeflow -> mountSpecification -> attach -> configure or
 * reconfigure -> switch the VDB to the new timeflow -> snapshot it. If a step fails, the undo chain puts the VDB
 * back on its previous timeflow: destroy the new clone, re-attach the old dataset, reconfigure it.
 */
export function replaceTimeflowSteps<Input extends ReplaceTimeflowInput>(mode: 'rewind' | 'refresh'): DvxStep<Input>[] {
  type C = LifecycleContext<Input>;
  const vdb = (c: C) => ({ vdbId: c.input.vdbId });
  const datasetOf = (c: C) => timeflowIdOf(c.input.runId);
  const mountSpec = step({ id: 'mountSpec', src: 'plugin.virtual.mountSpecification', input: vdb });
  const bring =
    mode === 'rewind'
      ? step({
          id: 'reconfigure',
          src: 'plugin.virtual.reconfigure',
          input: (c: C) => ({ ...vdb(c), snapshotId: c.input.snapshotId }),
        })
      : step({
          id: 'configure',
          src: 'plugin.virtual.configure',
          input: (c: C) => ({ ...vdb(c), snapshotId: c.input.snapshotId, mountSpecification: output(mountSpec, c) }),
        });
  return [
    step({
      id: 'unconfigure',
      src: 'plugin.virtual.unconfigure',
      input: (c: C) => ({ ...vdb(c), sourceConfig: null }),
      // The previous timeflow is the current one until switchTimeflow: reconfigure takes its base snapshot.
      undo: {
        id: 'restoreConfiguration',
        src: 'plugin.virtual.reconfigure',
        input: (c) => ({ ...vdb(c), snapshotId: null }),
        when: 'completed',
      },
    }),
    step({
      id: 'detach',
      src: 'mount.detachVdb',
      input: (c: C) => ({ ...vdb(c), mountSpecification: null }),
      undo: {
        id: 'reattachPrevious',
        src: 'mount.attachVdb',
        input: (c) => ({ ...vdb(c), datasetId: c.input.previousDatasetId, mountSpecification: null }),
      },
    }),
    step({
      id: 'clone',
      src: 'storage.clone',
      input: (c: C) => ({ snapshotId: c.input.snapshotId, datasetId: datasetOf(c) }),
      undo: { id: 'destroyClone', src: 'storage.destroyDataset', input: (c) => ({ datasetId: datasetOf(c) }) },
    }),
    mountSpec,
    step({
      id: 'attach',
      src: 'mount.attachVdb',
      input: (c: C) => ({ ...vdb(c), datasetId: datasetOf(c), mountSpecification: output(mountSpec, c) }),
      undo: {
        id: 'detachClone',
        src: 'mount.detachVdb',
        input: (c) => ({ ...vdb(c), mountSpecification: output(mountSpec, c) }),
      },
    }),
    bring,
    ...(mode === 'refresh' ? [hookStep<Input>('configureClone', vdbObject)] : []),
    step({
      id: 'switchTimeflow',
      src: 'model.switchVdbTimeflow',
      input: (c: C) => ({
        ...vdb(c),
        datasetId: datasetOf(c),
        snapshotId: c.input.snapshotId,
        sourceConfig: output(bring, c),
        creationType: mode === 'rewind' ? ('ROLLBACK' as const) : ('REFRESH' as const),
        runId: c.input.runId,
      }),
    }),
    ...vdbSnapshotSteps<Input>(datasetOf, 'after'),
  ];
}
