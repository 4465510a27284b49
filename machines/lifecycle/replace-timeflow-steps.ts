import { hookStep, vdbObject } from './hook-steps.js';
import { timeflowIdOf, vdbSnapshotSteps, type RunInput } from './shared-steps.js';
import type { LifecycleContext, StepSpec } from './types.js';

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
export function replaceTimeflowSteps<Input extends ReplaceTimeflowInput>(mode: 'rewind' | 'refresh'): StepSpec<Input>[] {
  const vdb = (c: LifecycleContext<Input>) => ({ vdbId: c.input.vdbId });
  const datasetOf = (c: LifecycleContext<Input>) => timeflowIdOf(c.input.runId);
  const bring = mode === 'rewind' ? 'reconfigure' : 'configure';
  return [
    {
      id: 'unconfigure',
      src: 'plugin.virtual.unconfigure',
      input: vdb,
      undo: { id: 'restoreConfiguration', src: 'plugin.virtual.reconfigure', input: (c) => ({ ...vdb(c), datasetId: c.input.previousDatasetId }), when: 'completed' },
    },
    {
      id: 'detach',
      src: 'mount.detachVdb',
      input: vdb,
      undo: { id: 'reattachPrevious', src: 'mount.attachVdb', input: (c) => ({ ...vdb(c), datasetId: c.input.previousDatasetId }) },
    },
    {
      id: 'clone',
      src: 'storage.clone',
      input: (c) => ({ ...vdb(c), snapshotId: c.input.snapshotId, datasetId: datasetOf(c) }),
      undo: { id: 'destroyClone', src: 'storage.destroyDataset', input: (c) => ({ datasetId: datasetOf(c) }) },
    },
    { id: 'mountSpec', src: 'plugin.virtual.mountSpecification', input: vdb },
    {
      id: 'attach',
      src: 'mount.attachVdb',
      input: (c) => ({ ...vdb(c), datasetId: datasetOf(c), mountSpecification: c.results.mountSpec ?? null }),
      undo: { id: 'detachClone', src: 'mount.detachVdb', input: (c) => ({ ...vdb(c), mountSpecification: c.results.mountSpec ?? null }) },
    },
    {
      id: bring,
      src: `plugin.virtual.${bring}`,
      input: (c) => ({ ...vdb(c), snapshotId: c.input.snapshotId, datasetId: datasetOf(c) }),
    },
    ...(mode === 'refresh' ? [hookStep<Input>('configureClone', vdbObject)] : []),
    {
      id: 'switchTimeflow',
      src: 'model.switchVdbTimeflow',
      input: (c) => ({
        ...vdb(c),
        datasetId: datasetOf(c),
        snapshotId: c.input.snapshotId,
        previousDatasetId: c.input.previousDatasetId,
        sourceConfig: c.results[bring] ?? null,
        creationType: mode === 'rewind' ? 'ROLLBACK' : 'REFRESH',
        runId: c.input.runId,
      }),
    },
    ...vdbSnapshotSteps<Input>(datasetOf, 'after'),
  ];
}
