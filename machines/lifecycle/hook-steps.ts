import { step, type DvxStep } from './dvx-steps.js';
import type { LifecycleContext } from './types.js';

export { HOOK_EVENTS, type HookEvent } from './hook-events.js';
import type { HookEvent } from './hook-events.js';

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
