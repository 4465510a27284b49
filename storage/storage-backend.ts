/** Space on a storage pool. */
export interface StorageUsage {
  totalBytes: number;
  usedBytes: number;
  freeBytes: number;
}

/**
 * Where datasets, snapshots and clones live. The seam every backend (btrfs, reflink) fulfils;
 * `test/storage/storage-backend.conformance.ts` is the suite each must pass.
 *
 * Steps are delivered at least once, so every mutating call is idempotent: repeating one that already happened
 * (even one interrupted by a crash) finds it done. Ids are plain names; anything else is refused (STORAGE_FAILED,
 * not retryable) before anything is touched, so no id can reach outside the backend's root.
 */
export interface StorageBackend {
  readonly kind: 'btrfs' | 'reflink';
  /** Root directory of the backend on the engine host. */
  readonly root: string;
  /** Creates an empty writable dataset. Idempotent: an existing dataset is left as it is. */
  createDataset(datasetId: string): Promise<void>;
  /** Read-only point-in-time snapshot of a dataset. Idempotent. STORAGE_NOT_FOUND if the dataset is missing. */
  snapshot(datasetId: string, snapshotId: string): Promise<void>;
  /** New writable dataset from a snapshot (thin where the backend can). Idempotent. STORAGE_NOT_FOUND if the snapshot is missing. */
  clone(snapshotId: string, datasetId: string): Promise<void>;
  /** Idempotent (missing is fine). STORAGE_BUSY if something is mounted on or inside it, or shows it elsewhere (a bind mount). */
  destroyDataset(datasetId: string): Promise<void>;
  destroySnapshot(snapshotId: string): Promise<void>;
  hasDataset(datasetId: string): Promise<boolean>;
  hasSnapshot(snapshotId: string): Promise<boolean>;
  /** Engine-local paths. Throw for an id that is not a plain name (`[A-Za-z0-9][A-Za-z0-9._-]*`). */
  datasetPath(datasetId: string): string;
  snapshotPath(snapshotId: string): string;
  /** Pool-level usage. */
  usage(): Promise<StorageUsage>;
  /** Bytes exclusive to one dataset or snapshot (a dataset id is looked up first) where the backend can tell, else null. */
  exclusiveBytes(id: string): Promise<number | null>;
}
