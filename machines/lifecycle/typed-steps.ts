import type { Catalogue, LifecycleContext, StepOf } from './types.js';

/** Marks the steps `step()` made: a lifecycle of a declared catalogue takes no others (see LifecycleSpec). */
export const CHECKED: unique symbol = Symbol('dvx.checkedStep');

/** A step whose input was checked field by field by `step()`. */
export type Checked<Step> = Step & { readonly [CHECKED]: true };

/** Each field of `R` that `T` does not have, typed `never`: an input that passes a field its step does not take fails to compile. */
type NoExtra<R, T> = { [Field in Exclude<keyof R, keyof T>]: never };

/** What `step()` takes: a step whose input (and its undo's) is checked field by field against the catalogue. */
export interface CheckedStep<
  Input,
  Steps extends Catalogue<Steps>,
  Src extends keyof Steps & string,
  In,
  UndoSrc extends keyof Steps & string,
  UndoIn,
> {
  id: string;
  src: Src;
  input: (context: LifecycleContext<Input>) => In & NoExtra<In, Steps[Src]['input']>;
  /** Not a place to infer `Input` from: a shared guard such as `isStaged` takes less than the run's input. */
  when?: (context: LifecycleContext<NoInfer<Input>>) => boolean;
  undo?: {
    id: string;
    src: UndoSrc;
    input: (context: LifecycleContext<Input>) => UndoIn & NoExtra<UndoIn, Steps[UndoSrc]['input']>;
    when?: 'touched' | 'completed';
  };
  optional?: boolean;
}

/** Writing and reading the steps of one catalogue: functions, not methods, so that they can be destructured. */
export interface TypedSteps<Steps extends Catalogue<Steps>> {
  /**
   * A step of the catalogue. Its `input` must build exactly what the handler takes: a missing field, a field of the
   * wrong type and a field the step does not take are compile errors (a plain object literal would let the last
   * one through: TypeScript does not check excess properties of an object an arrow function returns).
   */
  step: <
    Input,
    Src extends keyof Steps & string,
    In extends Steps[Src]['input'],
    UndoSrc extends keyof Steps & string = never,
    UndoIn extends Steps[UndoSrc]['input'] = never,
  >(
    spec: CheckedStep<Input, Steps, Src, In, UndoSrc, UndoIn>,
  ) => Checked<StepOf<Input, Steps, Src>>;
  /** The output of a step of this run, or null while it has not finished (or was skipped). */
  output: <Src extends keyof Steps & string>(
    step: { id: string; src: Src },
    context: Pick<LifecycleContext<unknown>, 'results'>,
  ) => Steps[Src]['output'] | null;
}

/** `step()` and `output()` bound to a catalogue. */
export function typedSteps<Steps extends Catalogue<Steps>>(): TypedSteps<Steps> {
  return {
    step: (spec) => ({ ...spec, [CHECKED]: true }),
    // The result was recorded from this step's handler, whose output type the catalogue fixes.
    output: (step, context) => (context.results[step.id] ?? null) as Steps[typeof step.src]['output'] | null,
  };
}
