import { step, type DvxStep } from './dvx-steps.js';
import type { LifecycleContext } from './types.js';

/** User hooks (as in the Delphix engine): bash run on the object's host at points of its lifecycles. */
export const HOOK_EVENTS = [
  'preSync',
  'postSync',
  'configureClone',
  'preRefresh',
  'postRefresh',
  'preRewind',
  'postRewind',
  'preSnapshot',
  'postSnapshot',
  'preStart',
  'postStart',
  'preStop',
  'postStop',
] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

type ObjectOf<Input> = (input: Input) => { objectType: 'dsource' | 'vdb'; objectId: string };

/** A hook whose failure fails the run (pre-hooks come first, so the run has changed nothing yet). */
export function hookStep<Input>(event: HookEvent, object: ObjectOf<Input>): DvxStep<Input> {
  return step({
    id: `${event}Hook`,
    src: 'hook.run',
    input: (c: LifecycleContext<Input>) => ({ ...object(c.input), event }),
  });
}

/** A post-hook: its failure is reported on the object but does not undo the run. */
export function postHookStep<Input>(event: HookEvent, object: ObjectOf<Input>): DvxStep<Input> {
  return step({
    id: `${event}Hook`,
    src: 'hook.report',
    input: (c: LifecycleContext<Input>) => ({ ...object(c.input), event }),
  });
}

export const vdbObject = (input: { vdbId: string }) => ({ objectType: 'vdb' as const, objectId: input.vdbId });
export const dsourceObject = (input: { dsourceId: string }) => ({
  objectType: 'dsource' as const,
  objectId: input.dsourceId,
});
