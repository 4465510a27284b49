import type { Checked } from './typed-steps.js';

/** The JSON form of an error as machines see it (the engine's SerializedError, kept structural so machines stay pure). */
export interface StepError {
  code: string;
  message: string;
  retryable?: boolean;
  action?: string;
  output?: string;
  details?: Record<string, unknown>;
  name?: string;
}

/** An undo step that failed; recorded, the undo chain goes on. */
export interface UndoFailure {
  step: string;
  error: StepError;
}

/** Context of every lifecycle machine. Plain JSON: it is persisted after every transition. */
export interface LifecycleContext<Input = Record<string, unknown>> {
  input: Input;
  /** Output of each step that finished, by step id. */
  results: Record<string, unknown>;
  /** Steps that were started (their undo runs even if they failed half way). */
  touched: string[];
  /** The failure that sent the run down its failure path. */
  error: StepError | null;
  failedStep: string | null;
  undoFailures: UndoFailure[];
  /** Failures of optional steps (post-hooks): reported, the run goes on. */
  warnings: UndoFailure[];
  cancelRequested: boolean;
}

/** One entry of a step catalogue: what a step takes and what it returns (both JSON). */
export interface StepDefinition {
  input: object;
  output: unknown;
}

/**
 * A catalogue of steps by handler name (`src`), e.g. {@link DvxSteps}: `Catalogue<typeof steps>` holds when every
 * entry is a {@link StepDefinition}. Machines name steps from it and handlers are typed against it.
 */
export type Catalogue<Steps> = { [Src in keyof Steps]: StepDefinition };

/** The catalogue of lifecycles that do not declare one (tests, benches): any name, any object as input. */
export type AnySteps = Record<string, StepDefinition>;

/** Builds a step's input from the run's context. Must be pure. */
export type StepInput<Input, In> = (context: LifecycleContext<Input>) => In;

/** A compensating step that undoes a forward step, running handler `Src`. */
export interface UndoOf<Input, Steps extends Catalogue<Steps>, Src extends keyof Steps & string> {
  /** Step id; letters and digits only (it becomes part of job ids and event names). */
  id: string;
  /** Name of the step handler. */
  src: Src;
  input: StepInput<Input, Steps[Src]['input']>;
  /**
   * `touched` (default): undo whenever the forward step was started, because it may have done part of its work
   * (engine steps such as clone and attach are idempotent, so undoing nothing is harmless).
   * `completed`: undo only if the forward step finished (plugin operations that need its result).
   */
  when?: 'touched' | 'completed';
}

/** A compensating step, for any handler of the catalogue. */
export type UndoSpec<Input, Steps extends Catalogue<Steps> = AnySteps> = {
  [Src in keyof Steps & string]: UndoOf<Input, Steps, Src>;
}[keyof Steps & string];

/** One forward step of a lifecycle, running handler `Src`. */
export interface StepOf<Input, Steps extends Catalogue<Steps>, Src extends keyof Steps & string> {
  /** Step id; letters and digits only (it becomes part of job ids and event names). */
  id: string;
  /** Name of the step handler that the engine runs as a job, e.g. `plugin.virtual.configure`. */
  src: Src;
  input: StepInput<Input, Steps[Src]['input']>;
  /** The step runs only when this returns true. */
  when?: (context: LifecycleContext<Input>) => boolean;
  undo?: UndoSpec<Input, Steps>;
  /** A failure is recorded as a warning and the run goes on (post-hooks). */
  optional?: boolean;
}

/** One forward step, for any handler of the catalogue. Write steps with `step()` (lifecycle/typed-steps.ts): it also refuses fields the step does not take. */
export type StepSpec<Input, Steps extends Catalogue<Steps> = AnySteps> = {
  [Src in keyof Steps & string]: StepOf<Input, Steps, Src>;
}[keyof Steps & string];

/**
 * The steps a lifecycle of catalogue `Steps` takes: for a declared catalogue (DvxSteps, a test's) only steps made
 * with `step()`, whose inputs were checked field by field; any step object for {@link AnySteps}.
 */
export type StepsOf<Input, Steps extends Catalogue<Steps>> = string extends keyof Steps
  ? StepSpec<Input, Steps>
  : Checked<StepSpec<Input, Steps>>;

/** A lifecycle: what `defineLifecycle` compiles into a machine. */
export interface LifecycleSpec<Input, Steps extends Catalogue<Steps> = AnySteps> {
  /** Run kind, e.g. `provision`. */
  kind: string;
  /** Bumped whenever states or context change shape; stored with every run. */
  version: number;
  description: string;
  steps: StepsOf<Input, Steps>[];
  /** Steps run after the undo chain when the run failed or was cancelled (mark the object failed...). */
  onFailure?: StepsOf<Input, Steps>[];
}

/** How a run ended, from its final state. */
export type LifecycleOutcome = 'succeeded' | 'failed' | 'cancelled';
