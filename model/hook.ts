import type { StoredRecord } from './record-store.js';

/** A user hook of a dSource or VDB: a bash script run on the object's host at one point of its lifecycles. */
export interface HookRecord extends StoredRecord {
  /** `<objectId>.<event>`: one script per object and event. */
  id: string;
  objectType: 'dsource' | 'vdb';
  objectId: string;
  /** One of machines/lifecycle/hook-steps.ts HOOK_EVENTS. */
  event: string;
  script: string;
}

export const hookIdOf = (objectId: string, event: string) => `${objectId}.${event}`;
