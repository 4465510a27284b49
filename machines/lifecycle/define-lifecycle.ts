import { assign, fromPromise, setup, type AnyEventObject, type AnyStateMachine } from 'xstate';
import type { AnySteps, Catalogue, LifecycleContext, LifecycleOutcome, LifecycleSpec, StepError } from './types.js';

/** A step of a compiled lifecycle (forward, undo or onFailure): its id and the name of its handler. */
export interface LifecycleStep {
  id: string;
  src: string;
}

/** A step of a compiled lifecycle's spec, whatever catalogue it was checked against. */
export interface CompiledStep<Input> {
  id: string;
  src: string;
  input: (context: LifecycleContext<Input>) => object;
  when?: (context: LifecycleContext<Input>) => boolean;
  undo?: {
    id: string;
    src: string;
    input: (context: LifecycleContext<Input>) => object;
    when?: 'touched' | 'completed';
  };
  optional?: boolean;
}

/** The spec of a compiled lifecycle (its steps were checked against their catalogue by `defineLifecycle`). */
export interface CompiledSpec<Input> extends Omit<LifecycleSpec<Input>, 'steps' | 'onFailure'> {
  steps: CompiledStep<Input>[];
  onFailure?: CompiledStep<Input>[];
}

/** A compiled lifecycle: the spec and its pure XState machine. */
export interface Lifecycle<Input = Record<string, unknown>> {
  kind: string;
  version: number;
  description: string;
  spec: CompiledSpec<Input>;
  /** Every step the machine may invoke: the engine checks it has a handler for each. */
  steps: readonly LifecycleStep[];
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

/** A step as the compiler handles it, whatever its catalogue and input. */
type AnyStep = CompiledStep<never>;

/** An assign action from a plain patch function; the generated states are not statically typed. */
function update(patch: (context: Ctx, event: AnyEventObject) => Partial<Ctx>) {
  return assign(({ context, event }: { context: Ctx; event: AnyEventObject }) => patch(context, event));
}

function asStepError(error: unknown): StepError {
  if (error && typeof error === 'object' && typeof (error as StepError).code === 'string') return error as StepError;
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), retryable: false };
}

function capitalise(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}

/** The names of the states `defineLifecycle` generates for a step (see below), besides the step id itself. */
const conditionState = (id: string) => `${id}Check`;
const undoState = (id: string) => `undo${capitalise(id)}`;

function validate(kind: string, forward: AnyStep[], failure: AnyStep[]): void {
  const fail = (message: string) => {
    throw new Error(`lifecycle ${kind}: ${message}`);
  };
  const all = [...forward, ...failure];
  const ids = new Set<string>();
  for (const id of [...all.map((step) => step.id), ...all.flatMap((step) => (step.undo ? [step.undo.id] : []))]) {
    if (!STEP_ID.test(id)) fail(`step id "${id}" must be letters and digits, starting with a letter`);
    if (ids.has(id)) fail(`step id "${id}" is used twice`);
    ids.add(id);
  }
  // Every state the machine will have, with what it was made for: a step id that is also a generated name would merge two states.
  const states = new Map<string, string>([...FINAL_STATES, 'ending'].map((name) => [name, 'the machine itself']));
  const claim = (name: string, owner: string) => {
    const other = states.get(name);
    if (other !== undefined)
      fail(`state "${name}" of ${owner} collides with the state of that name of ${other}: rename the step`);
    states.set(name, owner);
  };
  for (const step of all) {
    claim(step.id, `step ${step.id}`);
    if (step.when) claim(conditionState(step.id), `step ${step.id}`);
  }
  for (const step of forward) {
    if (!step.undo) continue;
    claim(undoState(step.undo.id), `undo step ${step.undo.id}`);
    claim(conditionState(undoState(step.undo.id)), `undo step ${step.undo.id}`);
  }
}

/**
 * Compiles a lifecycle spec into a pure XState machine:
 * forward steps in order (each an invoke whose id is the step id), a guard state before each conditional step,
 * an undo chain that runs the compensations of started steps in reverse order when a step fails or the run is
 * cancelled, then the onFailure steps, and three final states: succeeded, failed, cancelled.
 * Cancellation (event CANCEL) takes effect at the next step boundary.
 */
export function defineLifecycle<Input, Steps extends Catalogue<Steps> = AnySteps>(
  typed: LifecycleSpec<Input, NoInfer<Steps>>,
): Lifecycle<Input> {
  const spec: CompiledSpec<Input> = typed;
  const steps: AnyStep[] = spec.steps;
  const failureSteps: AnyStep[] = spec.onFailure ?? [];
  validate(spec.kind, steps, failureSteps);
  const undos = steps.flatMap((step) => (step.undo ? [{ step, undo: step.undo }] : [])).reverse();

  const entryOf = (step: AnyStep) => (step.when ? conditionState(step.id) : step.id);
  const forwardEntry = (index: number) => {
    const step = steps[index];
    return step ? entryOf(step) : 'succeeded';
  };
  const failureEntry = (index: number) => {
    const step = failureSteps[index];
    return step ? entryOf(step) : 'ending';
  };
  const undoEntry = (index: number) => {
    const entry = undos[index];
    return entry ? conditionState(undoState(entry.undo.id)) : failureEntry(0);
  };

  const states: Record<string, unknown> = {};
  const stepState = (step: AnyStep, next: string, onFailure: 'undo' | 'record') => {
    const withOutput = (context: Ctx, event: AnyEventObject) => {
      const output: unknown = event.output;
      return { ...context.results, [step.id]: output ?? null };
    };
    const failure = { step: step.id };
    const onError = step.optional
      ? {
          target: next,
          actions: update((context, event) => ({
            warnings: [...context.warnings, { ...failure, error: asStepError(event.error) }],
          })),
        }
      : onFailure === 'record'
        ? {
            target: next,
            actions: update((context, event) => ({
              undoFailures: [...context.undoFailures, { ...failure, error: asStepError(event.error) }],
            })),
          }
        : {
            target: undoEntry(0),
            actions: update((_context, event) => ({ error: asStepError(event.error), failedStep: step.id })),
          };
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
                  actions: update((context, event) => ({
                    results: withOutput(context, event),
                    error: CANCELLED,
                    failedStep: step.id,
                  })),
                },
                advance,
              ]
            : advance,
        onError,
      },
    };
  };

  const addSequence = (list: AnyStep[], nextOf: (index: number) => string, onFailure: 'undo' | 'record') => {
    list.forEach((step, index) => {
      const next = nextOf(index + 1);
      if (step.when) {
        const when = step.when;
        states[conditionState(step.id)] = {
          always: [{ guard: ({ context }: { context: Ctx }) => !when(context), target: next }, { target: step.id }],
        };
      }
      states[step.id] = stepState(step, next, onFailure);
    });
  };

  addSequence(steps, forwardEntry, 'undo');
  undos.forEach(({ step, undo }, index) => {
    const next = undoEntry(index + 1);
    const name = undoState(undo.id);
    const policy = undo.when ?? 'touched';
    states[conditionState(name)] = {
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
          actions: update((context, event) => ({
            undoFailures: [...context.undoFailures, { step: undo.id, error: asStepError(event.error) }],
          })),
        },
      },
    };
  });
  addSequence(failureSteps, failureEntry, 'record');
  states.ending = {
    always: [
      { guard: ({ context }: { context: Ctx }) => context.error?.code === 'RUN_CANCELLED', target: 'cancelled' },
      { target: 'failed' },
    ],
  };
  for (const outcome of FINAL_STATES) states[outcome] = { type: 'final' };

  const invoked: LifecycleStep[] = [...steps, ...failureSteps].flatMap((step) => [
    { id: step.id, src: step.src },
    ...(step.undo ? [{ id: step.undo.id, src: step.undo.src }] : []),
  ]);
  const actors = Object.fromEntries(invoked.map((step) => [step.src, runsAsJob]));

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
    // The generated states are built at run time from the spec, so xstate cannot type them (its config types need
    // literal state names); they are checked by the path-coverage tests of every lifecycle. The machine is then
    // handled as any machine: the driver works on snapshots, never on typed state names.
    states: states as never,
  }) as unknown as AnyStateMachine;

  return { kind: spec.kind, version: spec.version, description: spec.description, spec, steps: invoked, machine };
}

/** The outcome of a run whose machine reached a final state, or null while it runs. */
export function outcomeOf(value: unknown): LifecycleOutcome | null {
  return typeof value === 'string' && (FINAL_STATES as readonly string[]).includes(value)
    ? (value as LifecycleOutcome)
    : null;
}
