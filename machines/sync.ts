import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import { output, step, type DvxStep } from './lifecycle/dvx-steps.js';
import { dsourceObject, hookStep, postHookStep } from './lifecycle/hook-steps.js';
import type { PluginType } from './lifecycle/plugin-type.js';
import { isStaged, recordFailureStep, snapshotIdOf, type RunInput } from './lifecycle/shared-steps.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import type { LifecycleContext } from './lifecycle/types.js';

export interface SyncInput extends RunInput {
  dsourceId: string;
  pluginType: PluginType;
  /** Passed to the plugin's pre/post snapshot: `{ resync: true }` for a resync, null for policy-driven syncs. */
  snapshotParameters: Record<string, unknown> | null;
}

/** The steps of one sync, shared by link (initial resync, staging already attached) and sync/resync. */
export function syncSteps<Input extends SyncInput>(options: { attachStaging: boolean }): DvxStep<Input>[] {
  type C = LifecycleContext<Input>;
  const base = (c: C) => ({ dsourceId: c.input.dsourceId });
  const withParameters = (c: C) => ({ ...base(c), snapshotParameters: c.input.snapshotParameters });
  const mountSpec = step({
    id: 'stagingMountSpec',
    src: 'plugin.linked.mountSpecification',
    when: isStaged,
    input: base,
  });
  const attach: DvxStep<Input>[] = [
    mountSpec,
    step({
      id: 'attachStaging',
      src: 'mount.attachStaging',
      when: isStaged,
      input: (c: C) => ({ ...base(c), mountSpecification: output(mountSpec, c) }),
    }),
  ];
  const postSnapshot = step({ id: 'postSnapshot', src: 'plugin.linked.postSnapshot', input: withParameters });
  return [
    ...(options.attachStaging ? attach : []),
    step({ id: 'preSnapshot', src: 'plugin.linked.preSnapshot', input: withParameters }),
    step({
      id: 'snapshot',
      src: 'storage.snapshotDsource',
      input: (c: C) => ({ ...base(c), snapshotId: snapshotIdOf(c.input.runId) }),
      undo: {
        id: 'destroySnapshot',
        src: 'storage.destroySnapshot',
        input: (c) => ({ snapshotId: snapshotIdOf(c.input.runId) }),
      },
    }),
    postSnapshot,
    step({
      id: 'recordSnapshot',
      src: 'model.recordDsourceSnapshot',
      input: (c: C) => ({
        ...base(c),
        snapshotId: snapshotIdOf(c.input.runId),
        metadata: output(postSnapshot, c),
        runId: c.input.runId,
      }),
    }),
  ];
}

/** Sync or resync a dSource: the plugin ingests, the engine snapshots. */
export const syncLifecycle = defineLifecycle<SyncInput, DvxSteps>({
  kind: 'sync',
  version: 2,
  description:
    'staged: mountSpecification -> attach -> preSnapshot -> snapshot -> postSnapshot; direct: preSnapshot -> snapshot -> postSnapshot',
  steps: [
    hookStep<SyncInput>('preSync', dsourceObject),
    ...syncSteps<SyncInput>({ attachStaging: true }),
    postHookStep<SyncInput>('postSync', dsourceObject),
  ],
  onFailure: [recordFailureStep<SyncInput>(dsourceObject, { id: 'recordFailure', markFailed: false })],
});
