import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { isStaged, snapshotIdOf, type PluginType, type RunInput } from './lifecycle/shared-steps.js';
import { dsourceObject, hookStep, postHookStep } from './lifecycle/hook-steps.js';
import type { LifecycleContext, StepSpec } from './lifecycle/types.js';

export interface SyncInput extends RunInput {
  dsourceId: string;
  pluginType: PluginType;
  /** Passed to the plugin's pre/post snapshot: `{ resync: true }` for a resync, null for policy-driven syncs. */
  snapshotParameters: Record<string, unknown> | null;
}

/** The steps of one sync, shared by link (initial resync, staging already attached) and sync/resync. */
export function syncSteps<Input extends SyncInput>(options: { attachStaging: boolean }): StepSpec<Input>[] {
  const base = (c: LifecycleContext<Input>) => ({ dsourceId: c.input.dsourceId });
  const withParameters = (c: LifecycleContext<Input>) => ({ ...base(c), snapshotParameters: c.input.snapshotParameters });
  const attach: StepSpec<Input>[] = [
    { id: 'stagingMountSpec', src: 'plugin.linked.mountSpecification', when: isStaged, input: base },
    { id: 'attachStaging', src: 'mount.attachStaging', when: isStaged, input: (c) => ({ ...base(c), mountSpecification: c.results.stagingMountSpec ?? null }) },
  ];
  return [
    ...(options.attachStaging ? attach : []),
    { id: 'preSnapshot', src: 'plugin.linked.preSnapshot', input: withParameters },
    {
      id: 'snapshot',
      src: 'storage.snapshotDsource',
      input: (c) => ({ ...base(c), snapshotId: snapshotIdOf(c.input.runId) }),
      undo: { id: 'destroySnapshot', src: 'storage.destroySnapshot', input: (c) => ({ snapshotId: snapshotIdOf(c.input.runId) }) },
    },
    { id: 'postSnapshot', src: 'plugin.linked.postSnapshot', input: withParameters },
    {
      id: 'recordSnapshot',
      src: 'model.recordDsourceSnapshot',
      input: (c) => ({ ...base(c), snapshotId: snapshotIdOf(c.input.runId), metadata: c.results.postSnapshot ?? null, runId: c.input.runId }),
    },
  ];
}

/** Sync or resync a dSource: the plugin ingests, the engine snapshots. */
export const syncLifecycle = defineLifecycle<SyncInput>({
  kind: 'sync',
  version: 1,
  description: 'staged: mountSpecification -> attach -> preSnapshot -> snapshot -> postSnapshot; direct: preSnapshot -> snapshot -> postSnapshot',
  steps: [hookStep<SyncInput>('preSync', dsourceObject), ...syncSteps<SyncInput>({ attachStaging: true }), postHookStep<SyncInput>('postSync', dsourceObject)],
  onFailure: [{ id: 'recordFailure', src: 'model.recordDsourceFailure', input: (c) => ({ dsourceId: c.input.dsourceId, error: c.error, runId: c.input.runId }) }],
});
