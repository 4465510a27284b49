import type { DvxSteps } from './step-catalogue.js';
import { typedSteps } from './typed-steps.js';
import type { StepSpec } from './types.js';

/** A step of a dvx lifecycle. */
export type DvxStep<Input> = StepSpec<Input, DvxSteps>;

/** `step()` and `output()` for dvx's lifecycles (see {@link typedSteps}). */
export const { step, output } = typedSteps<DvxSteps>();
