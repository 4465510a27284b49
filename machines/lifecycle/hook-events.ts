/** User hooks (as in the Delphix engine): bash run on the object's host at points of its lifecycles. */
export const HOOK_EVENTS = [
  'preSync',
  'postSync',
  'configureClone',
  'preRefresh',
  'postRefresh',
  'preRewind',
  'postRewind',
  'preSnapshot',
  'postSnapshot',
  'preStart',
  'postStart',
  'preStop',
  'postStop',
] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];
