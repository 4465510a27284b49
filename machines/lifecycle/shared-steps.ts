import type { LifecycleContext, StepSpec } from './types.js';

/** Input fields every lifecycle run carries. */
export interface RunInput {
  /** The run's own id: names made from it (datasets, snapshots) are the same on every retry. */
  runId: string;
}

/** Plugin ingestion strategy: staged plugins get storage mounted on a staging host. */
export type PluginType = 'STAGED' | 'DIRECT';

export const isStaged = (context: LifecycleContext<{ pluginType: PluginType }>) => context.input.pluginType === 'STAGED';

/** The snapshot id a run creates: derived from the run so that a repeated step finds the same snapshot. */
export const snapshotIdOf = (runId: string) => `snap-${runId}`;

/** The dataset id a run creates (a new timeflow). */
export const timeflowIdOf = (runId: string) => `tf-${runId}`;

/** Steps that take a VDB snapshot: pre_snapshot, storage snapshot, post_snapshot, then the snapshot record. */
export function vdbSnapshotSteps<Input extends RunInput & { vdbId: string }>(
  datasetOf: (context: LifecycleContext<Input>) => string,
  prefix = '',
): StepSpec<Input>[] {
  const id = (name: string) => (prefix ? `${prefix}${name[0]!.toUpperCase()}${name.slice(1)}` : name);
  return [
    { id: id('preSnapshot'), src: 'plugin.virtual.preSnapshot', input: (c) => ({ vdbId: c.input.vdbId }) },
    {
      id: id('snapshot'),
      src: 'storage.snapshot',
      input: (c) => ({ datasetId: datasetOf(c), snapshotId: snapshotIdOf(c.input.runId) }),
      undo: { id: id('destroySnapshot'), src: 'storage.destroySnapshot', input: (c) => ({ snapshotId: snapshotIdOf(c.input.runId) }) },
    },
    { id: id('postSnapshot'), src: 'plugin.virtual.postSnapshot', input: (c) => ({ vdbId: c.input.vdbId }) },
    {
      id: id('recordSnapshot'),
      src: 'model.recordVdbSnapshot',
      input: (c) => ({
        vdbId: c.input.vdbId,
        snapshotId: snapshotIdOf(c.input.runId),
        datasetId: datasetOf(c),
        metadata: c.results[id('postSnapshot')] ?? null,
        runId: c.input.runId,
      }),
    },
  ];
}
