import { DvxError } from '../errors/index.js';
import type { Lifecycle } from '../machines/index.js';
import type { StepHandlers } from './step-handler.js';

/** Every step of the lifecycles (forward, undo, onFailure) whose handler is not among `handlers`, as `kind/stepId (src)`. */
export function missingHandlers(lifecycles: Iterable<Lifecycle<never>>, handlers: StepHandlers): string[] {
  const missing: string[] = [];
  for (const lifecycle of lifecycles) {
    for (const step of lifecycle.steps)
      if (!Object.hasOwn(handlers, step.src)) missing.push(`${lifecycle.kind}/${step.id} (${step.src})`);
  }
  return missing;
}

/** Refuses lifecycles whose steps the engine could not run: a run would otherwise fail at that step, maybe hours in. */
export function requireHandlers(lifecycles: Iterable<Lifecycle<never>>, handlers: StepHandlers): void {
  const missing = missingHandlers(lifecycles, handlers);
  if (missing.length === 0) return;
  throw new DvxError({
    code: 'STEP_HANDLER_MISSING',
    message: `This engine has no handler for ${missing.length === 1 ? 'a step' : `${missing.length} steps`} of its lifecycles: ${missing.join(', ')}.`,
    action:
      'Register a handler for every step the lifecycles name (createStepHandlers covers every dvx lifecycle), or leave out the lifecycles that need the missing ones.',
    details: { missing },
  });
}
