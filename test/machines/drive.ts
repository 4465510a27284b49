import {
  initialTransition,
  transition,
  type AnyEventObject,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type StateValue,
} from 'xstate';
import { activeInvokes } from '../../machines/index.js';

/** Decides what a step does when driven: its output, or an error to fail it with. */
export type StepOutcome = { output: unknown } | { error: { code: string; message: string } };

export interface DriveResult {
  outcome: string;
  /** The handler (src) of every step invoked, in order. */
  srcs: string[];
  /** The step ids invoked, in order. */
  ids: string[];
  snapshot: AnyMachineSnapshot;
  /** The machine's context when it finished. */
  context: Record<string, unknown>;
}

/** What the engine keeps of a machine snapshot: its state value and its context. */
export interface PersistedState {
  value: StateValue;
  context: Record<string, unknown>;
}

/** The value and context of a snapshot of any lifecycle machine (xstate types both as `any` on its Any* types). */
export function persist(snapshot: AnyMachineSnapshot): PersistedState {
  return { value: snapshot.value as StateValue, context: snapshot.context as Record<string, unknown> };
}

/** A snapshot the way the engine reads a run's state back: value and context through JSON, resolved by the machine. */
export function reload(machine: AnyStateMachine, state: PersistedState): AnyMachineSnapshot {
  return machine.resolveState(JSON.parse(JSON.stringify(state)) as PersistedState);
}

/**
 * Runs a lifecycle machine purely, the way the engine does: persist value+context, resolve, transition.
 * `decide(stepId, src, input)` plays the step; `beforeStep` may inject events (CANCEL) before a step's result.
 */
export function drive(
  machine: AnyStateMachine,
  input: unknown,
  decide: (id: string, src: string, input: unknown) => StepOutcome = () => ({ output: null }),
  beforeStep?: (id: string) => AnyEventObject | undefined,
): DriveResult {
  let [snapshot, actions] = initialTransition(machine, input);
  const srcs: string[] = [];
  const ids: string[] = [];
  for (let guard = 0; guard < 200; guard += 1) {
    const state = persist(snapshot);
    if (snapshot.status === 'done')
      return {
        outcome: typeof state.value === 'string' ? state.value : JSON.stringify(state.value),
        srcs,
        ids,
        snapshot,
        context: state.context,
      };
    const spawned = actions.filter((action) => action.type === 'xstate.spawnChild');
    const invoke = activeInvokes(machine, state.value)[0];
    if (!invoke) throw new Error(`stuck in ${JSON.stringify(snapshot.value)} with no step`);
    const spawn = spawned[0] as { params?: { id: string; src: string; input: unknown } } | undefined;
    if (!spawn?.params || spawn.params.id !== invoke.id)
      throw new Error(`state ${JSON.stringify(snapshot.value)} did not spawn its step`);
    srcs.push(spawn.params.src);
    ids.push(spawn.params.id);
    const extra = beforeStep?.(invoke.id);
    let resolved = reload(machine, state);
    if (extra) [resolved] = transition(machine, resolved, extra);
    const result = decide(invoke.id, spawn.params.src, spawn.params.input);
    const event =
      'output' in result
        ? { type: `xstate.done.actor.${invoke.id}`, output: result.output, actorId: invoke.id }
        : { type: `xstate.error.actor.${invoke.id}`, error: result.error, actorId: invoke.id };
    [snapshot, actions] = transition(machine, resolved, event);
  }
  throw new Error('lifecycle did not finish in 200 steps');
}
