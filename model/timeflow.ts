import type { StoredRecord } from './record-store.js';

/** One line of a dataset's history. Its id is the storage dataset's id. */
export interface TimeflowRecord extends StoredRecord {
  ownerType: 'dsource' | 'vdb';
  ownerId: string;
  /** The snapshot it was cloned from (null for a dSource's first timeflow). */
  parentSnapshotId: string | null;
  creationType: 'INITIAL' | 'PROVISION' | 'REFRESH' | 'ROLLBACK';
  runId: string;
}
