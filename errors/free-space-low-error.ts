import { formatBytes } from './format-bytes.js';
import { StorageError } from './storage-error.js';

/** What {@link FreeSpaceLowError} reports. */
export interface FreeSpaceLow {
  /** Bytes free in the pool (what an ordinary write can still use). */
  freeBytes: number;
  /** Size of the pool. */
  totalBytes: number;
  /** The floor in bytes. */
  floorBytes: number;
  /** The floor as configured: `5%` or `1.0 GiB`. */
  floor: string;
  /** What was refused, e.g. `provisioning VDB orders-dev` or `snapshot snap-r1`. */
  refused: string;
}

/**
 * The pool's free space is below its floor, so nothing new (snapshot, clone, dataset) is made in it: the VDBs
 * already there keep the space to write. Not retryable: the same request succeeds once space is freed.
 */
export class FreeSpaceLowError extends StorageError {
  constructor(low: FreeSpaceLow) {
    super({
      code: 'STORAGE_FREE_SPACE_LOW',
      message:
        `The storage pool has ${formatBytes(low.freeBytes)} free of ${formatBytes(low.totalBytes)}, below its floor ` +
        `of ${formatBytes(low.floorBytes)} (${low.floor}), so ${low.refused} was refused; nothing was created.`,
      action:
        'Free space in the pool, then try again: delete snapshots you no longer need (dvx snapshot list; ' +
        'dvx snapshot rm ID; a bookmarked snapshot needs its bookmark removed first: dvx bookmark rm NAME) or VDBs ' +
        '(dvx vdb rm NAME). Or grow the pool, or lower the floor (dvx engine start --storage-floor, DVX_STORAGE_FLOOR).',
      details: {
        freeBytes: low.freeBytes,
        totalBytes: low.totalBytes,
        floorBytes: low.floorBytes,
        floor: low.floor,
      },
    });
  }
}
