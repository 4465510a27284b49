import { formatBytes, ValidationError } from '../errors/index.js';
import { parseSize } from './parse-size.js';

/**
 * How much of the storage pool must stay free: below it, no new snapshot, clone or dataset is made (the VDBs
 * already in the pool keep the space to write). A share of the pool's size, or a number of bytes; 0 turns it off.
 */
export type FreeSpaceFloor = { percent: number } | { bytes: number };

/** 5% of the pool. */
export const DEFAULT_FREE_SPACE_FLOOR: FreeSpaceFloor = { percent: 5 };

/** The environment variable `dvx engine start` (and `dvx storage status`) read the floor from. */
export const FREE_SPACE_FLOOR_ENV = 'DVX_STORAGE_FLOOR';

/** `5%`, `0.5%`, `2G`, `512M`, `0` (off) to a floor; anything else is a ValidationError naming the option. */
export function parseFreeSpaceFloor(value: string, option = '--storage-floor'): FreeSpaceFloor {
  const text = value.trim();
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
  if (percent) {
    const share = Number(percent[1]);
    if (share < 100) return { percent: share };
  } else if (/^0+(?:\.0+)?$/.test(text)) {
    return { bytes: 0 };
  } else {
    try {
      return { bytes: parseSize(text, option) };
    } catch {
      // refused below, with this option's own message
    }
  }
  throw new ValidationError(
    `${option} "${value}" is not a free-space floor.`,
    [{ pointer: '/storageFloor', message: 'expected a percentage below 100 (5%) or a size (2G, 512M), or 0' }],
    { action: 'Give for example 5% or 2G (0 turns the floor off).' },
  );
}

/** The floor in bytes for a pool of `totalBytes`. */
export function floorBytesOf(floor: FreeSpaceFloor, totalBytes: number): number {
  return 'percent' in floor ? Math.ceil((totalBytes * floor.percent) / 100) : floor.bytes;
}

/** The floor as configured: `5%` or `2.0 GiB`. */
export function describeFloor(floor: FreeSpaceFloor): string {
  return 'percent' in floor ? `${floor.percent}%` : formatBytes(floor.bytes);
}
