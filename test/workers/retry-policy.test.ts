import { describe, expect, it } from 'vitest';
import { RetryPolicy } from '../../workers/retry-policy.js';

describe('retry policy', () => {
  it('gives the same attempt of the same job the same jittered delay, and spreads the delays of many jobs', () => {
    const policy = new RetryPolicy({ initialDelayMs: 1_000, maxDelayMs: 8_000, jitter: 0.25 });
    const again = new RetryPolicy({ initialDelayMs: 1_000, maxDelayMs: 8_000, jitter: 0.25 });
    const delays = Array.from({ length: 200 }, (_, i) => policy.delay(3, `run${i}-2-b`));
    expect(Array.from({ length: 200 }, (_, i) => again.delay(3, `run${i}-2-b`))).toEqual(delays);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(3_000);
      expect(delay).toBeLessThanOrEqual(4_000);
    }
    expect(new Set(delays).size).toBeGreaterThan(150);
    expect(Math.min(...delays)).toBeLessThan(3_200);
    expect(Math.max(...delays)).toBeGreaterThan(3_800);
  });

  it('without jitter, waits the ceiling', () => {
    const policy = new RetryPolicy({ initialDelayMs: 500, maxDelayMs: 30_000, jitter: 0 });
    expect([1, 2, 3, 10].map((attempt) => policy.delay(attempt, 'job'))).toEqual([500, 1_000, 2_000, 30_000]);
  });
});
