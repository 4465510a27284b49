import { FreeSpaceLowError } from '../errors/index.js';
import { DEFAULT_FREE_SPACE_FLOOR, describeFloor, floorBytesOf, type FreeSpaceFloor } from './free-space-floor.js';
import type { StorageBackend, StorageUsage } from './storage-backend.js';

/** A pool's usage measured against its free-space floor. */
export interface PoolSpaceReport extends StorageUsage {
  /** The floor in bytes (0 when off). */
  floorBytes: number;
  /** The floor as configured: `5%` or `2.0 GiB`. */
  floor: string;
  /** Whether the free space is below the floor: new snapshots and clones are refused. */
  belowFloor: boolean;
}

/** A pool's usage measured against a floor (shared by `PoolSpace` and `dvx storage status`). */
export function measureAgainstFloor(usage: StorageUsage, floor: FreeSpaceFloor): PoolSpaceReport {
  const floorBytes = floorBytesOf(floor, usage.totalBytes);
  return { ...usage, floorBytes, floor: describeFloor(floor), belowFloor: usage.freeBytes < floorBytes };
}

/**
 * The engine's storage pool and its free-space floor: what requests and steps that make a snapshot, clone or dataset
 * ask before they do, and what /health, /metrics and `dvx storage status` show. Free space is the backend's
 * `usage().freeBytes`: statfs's available blocks, which on btrfs is the `Free (statfs, df)` line of
 * `btrfs filesystem usage` (unallocated space plus what is free in data chunks; 0 when metadata is nearly full), less
 * the data reserved or written since btrfs's last commit (see `filesystemUsage`).
 */
export class PoolSpace {
  readonly floor: FreeSpaceFloor;

  constructor(
    readonly storage: StorageBackend,
    floor: FreeSpaceFloor = DEFAULT_FREE_SPACE_FLOOR,
  ) {
    this.floor = floor;
  }

  async report(): Promise<PoolSpaceReport> {
    return measureAgainstFloor(await this.storage.usage(), this.floor);
  }

  /**
   * Throws FreeSpaceLowError (STORAGE_FREE_SPACE_LOW, not retryable) when the pool's free space is below the floor.
   * `refused` says what, e.g. `provisioning VDB orders-dev`.
   */
  async require(refused: string): Promise<void> {
    const report = await this.report();
    if (!report.belowFloor) return;
    throw new FreeSpaceLowError({
      freeBytes: report.freeBytes,
      totalBytes: report.totalBytes,
      floorBytes: report.floorBytes,
      floor: report.floor,
      refused,
    });
  }
}
