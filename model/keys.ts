/** Every Redis key dvx writes is built here, under one prefix, so the keyspace is documented in one place. */
export const KEY_PREFIX = 'dvx';

export const keys = {
  /** Hash: one run (kind, version, status, seq, state, pending steps, object, times). */
  run: (runId: string) => `${KEY_PREFIX}:run:${runId}`,
  /** List: the run's transition log, append-only. */
  runLog: (runId: string) => `${KEY_PREFIX}:run:${runId}:log`,
  /** Hash: the run's step executions by job id (attempts, durations, errors). */
  runSteps: (runId: string) => `${KEY_PREFIX}:run:${runId}:steps`,
  /** Sorted set: every run id, by creation time. */
  runs: () => `${KEY_PREFIX}:runs`,
  /** Set: ids of runs that have not ended. */
  activeRuns: () => `${KEY_PREFIX}:runs:active`,
  /** Sorted set: run ids per object, by creation time. */
  objectRuns: (objectKey: string) => `${KEY_PREFIX}:runs:object:${objectKey}`,
  /** String: the id of the run holding an object. */
  lock: (objectKey: string) => `${KEY_PREFIX}:lock:${objectKey}`,
  lockPattern: () => `${KEY_PREFIX}:lock:*`,
  /** Stream: the audit log of mutating API requests, capped. */
  audit: () => `${KEY_PREFIX}:audit`,
  /** Set: the hash of every API token. */
  tokens: () => `${KEY_PREFIX}:tokens`,
  /** String: one API token record (JSON: id, name, role, times), keyed by the token's hash, never the token. */
  token: (tokenHash: string) => `${KEY_PREFIX}:token:${tokenHash}`,
} as const;

/** `<type>/<id>`: how runs and locks name the object they act on. */
export function objectKey(objectType: string, objectId: string): string {
  return `${objectType}/${objectId}`;
}
