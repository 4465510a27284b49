/** Every Redis key dvx writes is built here, under one prefix, so the keyspace is documented in one place. */
export const KEY_PREFIX = 'dvx';

/** BullMQ key prefix of every dvx queue (steps, policies, requests, webhooks). */
export const QUEUE_PREFIX = 'dvx-bull';

export const keys = {
  /**
   * Hash: one run (kind, version, status, seq, state, pending steps, object, times). Its `layout` field is `2` once
   * the run store keeps the run's pending job ids in {@link keys.runPending} too; runs written before lack it.
   */
  run: (runId: string) => `${KEY_PREFIX}:run:${runId}`,
  /** List: the run's transition log, append-only. */
  runLog: (runId: string) => `${KEY_PREFIX}:run:${runId}:log`,
  /** Hash: the run's step executions by job id (attempts, durations, errors). */
  runSteps: (runId: string) => `${KEY_PREFIX}:run:${runId}:steps`,
  /** Set: the job ids of the steps the run waits for (the `pending` field's job ids), for exact membership tests. */
  runPending: (runId: string) => `${KEY_PREFIX}:run:${runId}:pending`,
  /** Sorted set: every run id, by creation time (ms). The indexes below use the same scores. */
  runs: () => `${KEY_PREFIX}:runs`,
  /** Sorted set: run ids of one kind, by creation time. */
  runsByKind: (kind: string) => `${KEY_PREFIX}:runs:kind:${kind}`,
  /** Sorted set: run ids with one status, by creation time; moved from one status to the next as the run moves. */
  runsByStatus: (status: string) => `${KEY_PREFIX}:runs:status:${status}`,
  /** Sorted set: run ids of one kind with one status, by creation time. */
  runsByKindAndStatus: (kind: string, status: string) => `${KEY_PREFIX}:runs:status:${status}:kind:${kind}`,
  /** String: the version of the kind and status indexes every run is in; absent until runs written before are indexed. */
  runIndexes: () => `${KEY_PREFIX}:runs:indexed`,
  /** Set: ids of runs that have not ended. */
  activeRuns: () => `${KEY_PREFIX}:runs:active`,
  /** Sorted set: run ids per object, by creation time. */
  objectRuns: (objectKey: string) => `${KEY_PREFIX}:runs:object:${objectKey}`,
  /** String: the id of the run holding an object. */
  lock: (objectKey: string) => `${KEY_PREFIX}:lock:${objectKey}`,
  lockPattern: () => `${KEY_PREFIX}:lock:*`,
  /** Stream: the audit log of mutating API requests, capped. */
  audit: () => `${KEY_PREFIX}:audit`,
  /**
   * Stream: run and object events (`type` and `event` fields, the latter JSON; see model/event-log.ts), capped with
   * `MAXLEN ~`. Read it from a position with XREAD or GET /events?after=.
   */
  events: () => `${KEY_PREFIX}:events`,
  /** Hash: the request queue's key pair (`public`: PEM, `private`: PEM sealed with the engine's secret key). */
  requestKey: () => `${KEY_PREFIX}:request-queue:key`,
  /** String: one webhook delivery (JSON), kept with its subscription's list for {@link keys.webhookDeliveries}. */
  webhookDelivery: (deliveryId: string) => `${KEY_PREFIX}:webhook-delivery:${deliveryId}`,
  /** Sorted set: the delivery ids of one subscription, by creation time, capped. */
  webhookDeliveries: (subscriptionId: string) => `${KEY_PREFIX}:webhook:${subscriptionId}:deliveries`,
  /** List: the deliveries of one subscription and object not yet settled, oldest first: only the head is sent. */
  webhookChain: (subscriptionId: string, objectKey: string) =>
    `${KEY_PREFIX}:webhook:${subscriptionId}:chain:${objectKey}`,
  /** Set: the hash of every API token. */
  tokens: () => `${KEY_PREFIX}:tokens`,
  /** String: one API token record (JSON: id, name, role, times), keyed by the token's hash, never the token. */
  token: (tokenHash: string) => `${KEY_PREFIX}:token:${tokenHash}`,
} as const;

/** `<type>/<id>`: how runs and locks name the object they act on. */
export function objectKey(objectType: string, objectId: string): string {
  return `${objectType}/${objectId}`;
}
