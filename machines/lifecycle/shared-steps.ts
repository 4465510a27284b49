import { step, output, type DvxStep } from './dvx-steps.js';
import type { PluginType } from './plugin-type.js';
import type { LifecycleContext } from './types.js';

/** Input fields every lifecycle run carries. */
export interface RunInput {
  /** The run's own id: names made from it (datasets, snapshots) are the same on every retry. */
  runId: string;
}

export const isStaged = (context: LifecycleContext<{ pluginType: PluginType }>) =>
  context.input.pluginType === 'STAGED';

/** The snapshot id a run creates: derived from the run so that a repeated step finds the same snapshot. */
export const snapshotIdOf = (runId: string) => `snap-${runId}`;

/** The dataset id a run creates (a new timeflow). */
export const timeflowIdOf = (runId: string) => `tf-${runId}`;

/** What a lifecycle's onFailure step records on its dSource or VDB (see `model.recordFailure`). */
export function recordFailureStep<Input extends RunInput>(
  object: (input: Input) => { objectType: 'dsource' | 'vdb'; objectId: string },
  options: { id: string; markFailed: boolean },
): DvxStep<Input> {
  return step({
    id: options.id,
    src: 'model.recordFailure',
    input: (c: LifecycleContext<Input>) => ({
      ...object(c.input),
      error: c.error,
      runId: c.input.runId,
      markFailed: options.markFailed,
    }),
  });
}

/** Steps that take a VDB snapshot: pre_snapshot, storage snapshot, post_snapshot, then the snapshot record. */
export function vdbSnapshotSteps<Input extends RunInput & { vdbId: string }>(
  datasetOf: (context: LifecycleContext<Input>) => string,
  prefix = '',
): DvxStep<Input>[] {
  const id = (name: string) => (prefix ? `${prefix}${name.charAt(0).toUpperCase()}${name.slice(1)}` : name);
  const postSnapshot = step({
    id: id('postSnapshot'),
    src: 'plugin.virtual.postSnapshot',
    input: (c: LifecycleContext<Input>) => ({ vdbId: c.input.vdbId }),
  });
  return [
    step({
      id: id('preSnapshot'),
      src: 'plugin.virtual.preSnapshot',
      input: (c: LifecycleContext<Input>) => ({ vdbId: c.input.vdbId }),
    }),
    step({
      id: id('snapshot'),
      src: 'storage.snapshot',
      input: (c: LifecycleContext<Input>) => ({ datasetId: datasetOf(c), snapshotId: snapshotIdOf(c.input.runId) }),
      undo: {
        id: id('destroySnapshot'),
        src: 'storage.destroySnapshot',
        input: (c) => ({ snapshotId: snapshotIdOf(c.input.runId) }),
      },
    }),
    postSnapshot,
    step({
      id: id('recordSnapshot'),
      src: 'model.recordVdbSnapshot',
      input: (c: LifecycleContext<Input>) => ({
        vdbId: c.input.vdbId,
        snapshotId: snapshotIdOf(c.input.runId),
        datasetId: datasetOf(c),
        metadata: output(postSnapshot, c),
        runId: c.input.runId,
      }),
    }),
  ];
}
