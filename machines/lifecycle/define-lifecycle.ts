import { assign, fromPromise, setup, type AnyEventObject, type AnyStateMachine } from 'xstate';
import type { LifecycleContext, LifecycleOutcome, LifecycleSpec, StepError, StepSpec, UndoSpec } from './types.js';

/** A compiled lifecycle: the spec and its pure XState machine. */
export interface Lifecycle<Input = Record<string, unknown>> {
  kind: string;
  version: number;
  description: string;
  spec: LifecycleSpec<Input>;
  machine: AnyStateMachine;
}

const STEP_ID = /^[a-zA-Z][a-zA-Z0-9]*$/;
const FINAL_STATES: readonly LifecycleOutcome[] = ['succeeded', 'failed', 'cancelled'];

/** Steps never run in-process: the engine turns every invoke into a job. */
const runsAsJob = fromPromise<unknown, unknown>(async () => {
  throw new Error('lifecycle steps run as engine jobs, not in-process actors');
});

const CANCELLED: StepError = { code: 'RUN_CANCELLED', message: 'The run was cancelled.', retryable: false };

type Ctx = LifecycleContext<never>;

/** An assign action from a plain patch function; the generated states are not statically typed. */
function update(patch: (context: Ctx, event: AnyEventObject) => Partial<Ctx>) {
  return assign(({ context, event }: { context: Ctx; event: AnyEventObject }) => patch(context, event));
}

function asStepError(error: unknown): StepError {
  if (error && typeof error === 'object' && typeof (error as StepError).code === 'string') return error as StepError;
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), retryable: false };
}

function capitalise(id: string): string {
  return id[0]!.toUpperCase() + id.slice(1);
}

function validate<Input>(spec: LifecycleSpec<Input>): void {
  const seen = new Set<string>(FINAL_STATES);
  const all = [...spec.steps, ...(spec.onFailure ?? [])];
  const ids = [...all.map((step) => step.id), ...all.flatMap((step) => (step.undo ? [step.undo.id] : []))];
  for (const id of ids) {
    if (!STEP_ID.test(id)) throw new Error(`lifecycle ${spec.kind}: step id "${id}" must be letters and digits, starting with a letter`);
    if (seen.has(id)) throw new Error(`lifecycle ${spec.kind}: step id "${id}" is used twice`);
    seen.add(id);
  }
}

/**
 * Compiles a lifecycle spec into a pure XState machine:
 * forward steps in order (each an invoke whose id is the step id), a guard state before each conditional step,
 * an undo chain that runs the compensations of started steps in reverse order when a step fails or the run is
 * cancelled, then the onFailure steps, and three final states: succeeded, failed, cancelled.
 * Cancellation (event CANCEL) takes effect at the next step boundary.
 */
export function defineLifecycle<Input>(spec: LifecycleSpec<Input>): Lifecycle<Input> {
  validate(spec);
  const steps = spec.steps as StepSpec<never>[];
  const failureSteps = (spec.onFailure ?? []) as StepSpec<never>[];
  const undos = steps.flatMap((step) => (step.undo ? [{ step, undo: step.undo as UndoSpec<never> }] : [])).reverse();

  const entryOf = (step: StepSpec<never>) => (step.when ? `${step.id}Check` : step.id);
  const forwardEntry = (index: number) => (index < steps.length ? entryOf(steps[index]!) : 'succeeded');
  const failureEntry = (index: number) => (index < failureSteps.length ? entryOf(failureSteps[index]!) : 'ending');
  const undoEntry = (index: number) => (index < undos.length ? `undo${capitalise(undos[index]!.undo.id)}Check` : failureEntry(0));

  const states: Record<string, unknown> = {};
  const stepState = (step: StepSpec<never>, next: string, onFailure: 'undo' | 'record') => {
    const withOutput = (context: Ctx, event: AnyEventObject) => ({ ...context.results, [step.id]: event.output ?? null });
    const failure = { step: step.id };
    const onError = step.optional
      ? { target: next, actions: update((context, event) => ({ warnings: [...context.warnings, { ...failure, error: asStepError(event.error) }] })) }
      : onFailure === 'record'
        ? { target: next, actions: update((context, event) => ({ undoFailures: [...context.undoFailures, { ...failure, error: asStepError(event.error) }] })) }
        : { target: undoEntry(0), actions: update((_context, event) => ({ error: asStepError(event.error), failedStep: step.id })) };
    const advance = { target: next, actions: update((context, event) => ({ results: withOutput(context, event) })) };
    return {
      entry: update((context) => ({ touched: [...context.touched, step.id] })),
      invoke: {
        id: step.id,
        src: step.src,
        input: ({ context }: { context: Ctx }) => step.input(context),
        onDone:
          onFailure === 'undo'
            ? [
                {
                  guard: ({ context }: { context: Ctx }) => context.cancelRequested,
                  target: undoEntry(0),
                  actions: update((context, event) => ({ results: withOutput(context, event), error: CANCELLED, failedStep: step.id })),
                },
                advance,
              ]
            : advance,
        onError,
      },
    };
  };

  const addSequence = (list: StepSpec<never>[], nextOf: (index: number) => string, onFailure: 'undo' | 'record') => {
    list.forEach((step, index) => {
      const next = nextOf(index + 1);
      if (step.when) {
        const when = step.when;
        states[`${step.id}Check`] = {
          always: [{ guard: ({ context }: { context: Ctx }) => !when(context), target: next }, { target: step.id }],
        };
      }
      states[step.id] = stepState(step, next, onFailure);
    });
  };

  addSequence(steps, forwardEntry, 'undo');
  undos.forEach(({ step, undo }, index) => {
    const next = undoEntry(index + 1);
    const name = `undo${capitalise(undo.id)}`;
    const policy = undo.when ?? 'touched';
    states[`${name}Check`] = {
      always: [
        {
          guard: ({ context }: { context: Ctx }) =>
            policy === 'completed' ? Object.hasOwn(context.results, step.id) : context.touched.includes(step.id),
          target: name,
        },
        { target: next },
      ],
    };
    states[name] = {
      invoke: {
        id: undo.id,
        src: undo.src,
        input: ({ context }: { context: Ctx }) => undo.input(context),
        onDone: { target: next },
        onError: {
          target: next,
          actions: update((context, event) => ({ undoFailures: [...context.undoFailures, { step: undo.id, error: asStepError(event.error) }] })),
        },
      },
    };
  });
  addSequence(failureSteps, failureEntry, 'record');
  states.ending = {
    always: [{ guard: ({ context }: { context: Ctx }) => context.error?.code === 'RUN_CANCELLED', target: 'cancelled' }, { target: 'failed' }],
  };
  for (const outcome of FINAL_STATES) states[outcome] = { type: 'final' };

  const actors = Object.fromEntries(
    [...steps, ...failureSteps].flatMap((step) => [step.src, ...(step.undo ? [step.undo.src] : [])]).map((src) => [src, runsAsJob]),
  );

  const machine = setup({
    types: {} as { context: LifecycleContext<Input>; input: Input },
    actors,
  }).createMachine({
    id: spec.kind,
    initial: forwardEntry(0),
    context: ({ input }) => ({
      input,
      results: {},
      touched: [],
      error: null,
      failedStep: null,
      undoFailures: [],
      warnings: [],
      cancelRequested: false,
    }),
    on: { CANCEL: { actions: assign({ cancelRequested: true }) } },
    // The generated states are checked by the path-coverage tests of every lifecycle.
    states: states as never,
  }) as unknown as AnyStateMachine;

  return { kind: spec.kind, version: spec.version, description: spec.description, spec, machine };
}

/** The outcome of a run whose machine reached a final state, or null while it runs. */
export function outcomeOf(value: unknown): LifecycleOutcome | null {
  return typeof value === 'string' && (FINAL_STATES as readonly string[]).includes(value) ? (value as LifecycleOutcome) : null;
}
