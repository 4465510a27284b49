import { hookStep, postHookStep, vdbObject } from './lifecycle/hook-steps.js';
import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import { replaceTimeflowSteps, type ReplaceTimeflowInput } from './lifecycle/replace-timeflow-steps.js';
import { recordVdbFailure } from './vdb-start.js';

export type RefreshInput = ReplaceTimeflowInput;

/** Refresh a VDB from a snapshot of its parent: a new timeflow; older ones stay for VDBs and rewinds using them. */
export const vdbRefreshLifecycle = defineLifecycle<RefreshInput, DvxSteps>({
  kind: 'vdb-refresh',
  version: 2,
  description:
    "unconfigure -> detach -> clone parent's snapshot as a new timeflow -> mountSpecification -> attach -> configure",
  steps: [
    hookStep<RefreshInput>('preRefresh', vdbObject),
    ...replaceTimeflowSteps<RefreshInput>('refresh'),
    postHookStep<RefreshInput>('postRefresh', vdbObject),
  ],
  onFailure: [recordVdbFailure],
});
