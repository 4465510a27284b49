/**
 * `value`, or a thrown error naming what is missing: for tests and benchmarks, where a missing value is a failure
 * (`must(runs.at(-1), 'a run').id` instead of a non-null assertion).
 */
export function must<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`expected ${what}, found ${String(value)}`);
  return value;
}
