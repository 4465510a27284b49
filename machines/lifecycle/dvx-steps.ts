import type { DvxSteps } from './step-catalogue.js';
import { typedSteps } from './typed-steps.js';
import type { StepsOf } from './types.js';

/** A step of a dvx lifecycle (made with `step()`). */
export type DvxStep<Input> = StepsOf<Input, DvxSteps>;

/** `step()` and `output()` for dvx's lifecycles (see {@link typedSteps}). */
export const { step, output } = typedSteps<DvxSteps>();
