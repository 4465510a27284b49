import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Role } from './types.js';

export interface Caller {
  id: string;
  name: string;
  role: Role;
}

export const CallerContext = createContext<Caller | null>(null);

/** Whether the signed-in token may run lifecycles (operators and admins); viewers only look. */
export function useCanAct(): boolean {
  const caller = useContext(CallerContext);
  return caller?.role === 'operator' || caller?.role === 'admin';
}
