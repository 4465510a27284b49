import { createActor, type AnyActorScope, type AnyEventObject, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';

type InertScope = Omit<AnyActorScope, 'actionExecutor'>;

const scopes = new WeakMap<AnyStateMachine, InertScope>();

function inertScope(machine: AnyStateMachine): InertScope {
  let scope = scopes.get(machine);
  if (!scope) {
    const self = createActor(machine);
    scope = { self, id: '', sessionId: '', system: self.system, logger: () => {}, defer: () => {}, emit: () => {}, stopChild: () => {} };
    scopes.set(machine, scope);
  }
  return scope;
}

/**
 * XState's pure `transition(machine, snapshot, event)`: the next snapshot and the actions it would execute, none of
 * them run. `transition` builds a throwaway actor on every call, and building one runs the machine's initial
 * transition; this builds that inert actor once per machine and reuses it, which halves the cost of a step.
 */
export function pureTransition(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: AnyEventObject): [AnyMachineSnapshot, { type: string; params?: unknown }[]] {
  const actions: { type: string; params?: unknown }[] = [];
  const next = machine.transition(snapshot, event, { ...inertScope(machine), actionExecutor: (action) => actions.push(action) } as AnyActorScope);
  return [next, actions];
}
