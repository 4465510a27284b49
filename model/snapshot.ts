import type { StoredRecord } from './record-store.js';

/** An immutable point-in-time copy of a dSource or VDB. Its id is the storage snapshot's id. */
export interface SnapshotRecord extends StoredRecord {
  ownerType: 'dsource' | 'vdb';
  ownerId: string;
  timeflowId: string;
  /** The plugin's snapshot metadata (snapshotDefinition); password fields sealed. */
  metadata: Record<string, unknown>;
  runId: string;
}
