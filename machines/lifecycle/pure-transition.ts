import {
  createActor,
  transition,
  type AnyEventObject,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
} from 'xstate';

/** The scope `machine.transition` takes. */
type TransitionScope = Parameters<AnyStateMachine['transition']>[2];
type InertScope = Omit<TransitionScope, 'actionExecutor'>;

/** Null for a machine whose invokes carry a system id: those register with the actor system, which must be fresh. */
const scopes = new WeakMap<AnyStateMachine, InertScope | null>();

function usesSystemIds(node: AnyStateNode): boolean {
  return node.invoke.some((invoke) => invoke.systemId !== undefined) || Object.values(node.states).some(usesSystemIds);
}

function inertScope(machine: AnyStateMachine): InertScope | null {
  let scope = scopes.get(machine);
  if (scope === undefined) {
    if (usesSystemIds(machine.root)) {
      scope = null;
    } else {
      const self = createActor(machine);
      scope = {
        self,
        id: '',
        sessionId: '',
        system: self.system,
        logger: () => {},
        defer: () => {},
        emit: () => {},
        stopChild: () => {},
      };
    }
    scopes.set(machine, scope);
  }
  return scope;
}

/**
 * XState's pure `transition(machine, snapshot, event)`: the next snapshot and the actions it would execute, none of
 * them run. `transition` builds a throwaway actor on every call, and building one runs the machine's initial
 * transition; this builds that inert actor once per machine and reuses it, which halves the cost of a step. The
 * children it spawns are never started, so nothing registers with the shared actor system (a machine whose invokes
 * carry a system id would register them: it gets XState's `transition`).
 */
export function pureTransition(
  machine: AnyStateMachine,
  snapshot: AnyMachineSnapshot,
  event: AnyEventObject,
): [AnyMachineSnapshot, { type: string; params?: unknown }[]] {
  const scope = inertScope(machine);
  if (!scope) return transition(machine, snapshot, event) as [AnyMachineSnapshot, { type: string; params?: unknown }[]];
  const actions: { type: string; params?: unknown }[] = [];
  const next = machine.transition(snapshot, event, { ...scope, actionExecutor: (action) => actions.push(action) });
  return [next, actions];
}
