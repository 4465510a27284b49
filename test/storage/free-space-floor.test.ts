import { describe, expect, it } from 'vitest';
import { describeFloor, floorBytesOf, parseFreeSpaceFloor } from '../../storage/index.js';

describe('parseFreeSpaceFloor', () => {
  it('reads a share of the pool, a size, or 0 (off)', () => {
    expect(parseFreeSpaceFloor('5%')).toEqual({ percent: 5 });
    expect(parseFreeSpaceFloor('0.5%')).toEqual({ percent: 0.5 });
    expect(parseFreeSpaceFloor('0%')).toEqual({ percent: 0 });
    expect(parseFreeSpaceFloor('2G')).toEqual({ bytes: 2 * 1024 ** 3 });
    expect(parseFreeSpaceFloor('512M')).toEqual({ bytes: 512 * 1024 ** 2 });
    expect(parseFreeSpaceFloor('0')).toEqual({ bytes: 0 });
  });

  it('refuses anything else with a ValidationError naming the option', () => {
    for (const bad of ['', '%', '100%', '150%', '-5%', 'five', '5 %%', '2X', '-1G']) {
      expect(() => parseFreeSpaceFloor(bad, 'DVX_STORAGE_FLOOR'), bad).toThrow(
        /DVX_STORAGE_FLOOR ".*" is not a free-space floor/,
      );
    }
  });
});

describe('the floor of a pool', () => {
  it('is its share of the pool size, or its size in bytes', () => {
    expect(floorBytesOf({ percent: 5 }, 512 * 1024 ** 2)).toBe(26_843_546);
    expect(floorBytesOf({ bytes: 1024 }, 512 * 1024 ** 2)).toBe(1024);
    expect(describeFloor({ percent: 5 })).toBe('5%');
    expect(describeFloor({ bytes: 2 * 1024 ** 3 })).toBe('2.0 GiB');
  });
});
