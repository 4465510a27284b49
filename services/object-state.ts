import { ConflictError } from '../errors/index.js';

/** Refuses a request the object's current state does not allow, saying what state it is in and what to do. */
export function requireState(condition: boolean, message: string, action: string): void {
  if (!condition) throw new ConflictError({ message, action });
}
