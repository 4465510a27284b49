import { hookStep, postHookStep, vdbObject } from './lifecycle/hook-steps.js';
import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import type { DvxSteps } from './lifecycle/step-catalogue.js';
import { replaceTimeflowSteps, type ReplaceTimeflowInput } from './lifecycle/replace-timeflow-steps.js';
import { recordVdbFailure } from './vdb-start.js';

export type RewindInput = ReplaceTimeflowInput;

/** Rewind a VDB to one of its snapshots (any timeflow): a new timeflow from it; the old one stays. */
export const vdbRewindLifecycle = defineLifecycle<RewindInput, DvxSteps>({
  kind: 'vdb-rewind',
  version: 2,
  description:
    'unconfigure -> detach -> clone target snapshot as a new timeflow -> mountSpecification -> attach -> reconfigure',
  steps: [
    hookStep<RewindInput>('preRewind', vdbObject),
    ...replaceTimeflowSteps<RewindInput>('rewind'),
    postHookStep<RewindInput>('postRewind', vdbObject),
  ],
  onFailure: [recordVdbFailure],
});
