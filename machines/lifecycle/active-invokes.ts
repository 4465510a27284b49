import type { AnyStateMachine, AnyStateNode, StateValue } from 'xstate';

/** A step invoke that is active in some state: its id and the name of its handler. */
export interface ActiveInvoke {
  id: string;
  src: string;
}

/**
 * The invokes active in a state value, read from the machine's public state tree. Used by the driver to
 * know which step jobs a persisted run is waiting for, without keeping live child actors.
 */
export function activeInvokes(machine: AnyStateMachine, value: StateValue): ActiveInvoke[] {
  const found: ActiveInvoke[] = [];
  const visit = (node: AnyStateNode, current: StateValue | undefined) => {
    for (const invoke of node.invoke)
      found.push({
        id: invoke.id,
        src: typeof invoke.src === 'string' ? invoke.src : String((invoke.src as { id?: string }).id ?? 'inline'),
      });
    if (current === undefined) return;
    if (typeof current === 'string') {
      const child = node.states[current];
      if (child) visit(child, undefined);
      return;
    }
    for (const [key, sub] of Object.entries(current)) {
      const child = node.states[key];
      if (child) visit(child, sub as StateValue);
    }
  };
  visit(machine.root, value);
  return found;
}
