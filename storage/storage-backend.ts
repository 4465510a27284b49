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
 * (even one interrupted by a crash) finds it done.
 */
export interface StorageBackend {
  readonly kind: 'btrfs' | 'reflink';
  /** Root directory of the backend on the engine host. */
  readonly root: string;
  /** Creates an empty writable dataset. An existing dataset is left as it is. */
  createDataset(datasetId: string): Promise<void>;
  /** A read-only point-in-time snapshot of a dataset. STORAGE_NOT_FOUND if the dataset is missing. */
  snapshot(datasetId: string, snapshotId: string): Promise<void>;
  /** A new writable dataset from a snapshot. STORAGE_NOT_FOUND if the snapshot is missing. */
  clone(snapshotId: string, datasetId: string): Promise<void>;
  /** Missing is fine. STORAGE_BUSY if something is mounted on or inside it. */
  destroyDataset(datasetId: string): Promise<void>;
  destroySnapshot(snapshotId: string): Promise<void>;
  hasDataset(datasetId: string): Promise<boolean>;
  hasSnapshot(snapshotId: string): Promise<boolean>;
  datasetPath(datasetId: string): string;
  snapshotPath(snapshotId: string): string;
  /** Pool-level usage. */
  usage(): Promise<StorageUsage>;
  /** Bytes held by one dataset or snapshot alone, where the backend can tell; else null. */
  exclusiveBytes(id: string): Promise<number | null>;
}
