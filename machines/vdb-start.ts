import { hookStep, postHookStep, vdbObject } from './lifecycle/hook-steps.js';
import { defineLifecycle } from './lifecycle/define-lifecycle.js';
import type { RunInput } from './lifecycle/shared-steps.js';

export interface VdbInput extends RunInput {
  vdbId: string;
}

export const recordVdbFailure = { id: 'recordFailure', src: 'model.recordVdbFailure', input: (c: { input: VdbInput; error: unknown }) => ({ vdbId: c.input.vdbId, error: c.error, runId: c.input.runId }) };

/** Start a VDB: make sure its storage is mounted, then the plugin's start. */
export const vdbStartLifecycle = defineLifecycle<VdbInput>({
  kind: 'vdb-start',
  version: 1,
  description: 'mountSpecification -> attach if needed -> start',
  steps: [
    hookStep<VdbInput>('preStart', vdbObject),
    { id: 'mountSpec', src: 'plugin.virtual.mountSpecification', input: (c) => ({ vdbId: c.input.vdbId }) },
    { id: 'attach', src: 'mount.attachVdb', input: (c) => ({ vdbId: c.input.vdbId, mountSpecification: c.results.mountSpec ?? null }) },
    { id: 'start', src: 'plugin.virtual.start', input: (c) => ({ vdbId: c.input.vdbId }) },
    { id: 'markRunning', src: 'model.setVdbRunning', input: (c) => ({ vdbId: c.input.vdbId, running: true }) },
    postHookStep<VdbInput>('postStart', vdbObject),
  ],
  onFailure: [recordVdbFailure],
});
