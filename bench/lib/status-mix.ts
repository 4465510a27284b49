import type { RunStatus } from '../../model/run-record.js';

/**
 * The status of the `i`th of many runs written by a benchmark, spread over `mix` (status, share of runs) in a fixed
 * way, not at random, so that every run of the bench has the same data.
 */
export function statusFromMix(i: number, mix: readonly (readonly [RunStatus, number])[]): RunStatus {
  let at = ((i * 7919) % 10_000) / 10_000;
  for (const [status, share] of mix) {
    if (at < share) return status;
    at -= share;
  }
  return 'succeeded';
}
