import { hookStep, postHookStep, vdbObject } from './lifecycle/hook-steps.js';
import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import { vdbSnapshotSteps } from './lifecycle/shared-steps.js';
import { recordVdbFailure, type VdbInput } from './vdb-start.js';

export interface VdbSnapshotInput extends VdbInput {
  /** The VDB's current dataset (its timeflow), read when the run starts. */
  datasetId: string;
}

/** Snapshot a VDB: pre_snapshot, storage snapshot, post_snapshot. */
export const vdbSnapshotLifecycle = defineLifecycle<VdbSnapshotInput, DvxSteps>({
  kind: 'vdb-snapshot',
  version: 2,
  description: 'preSnapshot -> snapshot -> postSnapshot',
  steps: [
    hookStep<VdbSnapshotInput>('preSnapshot', vdbObject),
    ...vdbSnapshotSteps<VdbSnapshotInput>((c) => c.input.datasetId),
    postHookStep<VdbSnapshotInput>('postSnapshot', vdbObject),
  ],
  onFailure: [recordVdbFailure],
});
