/** Property names whose values are secrets wherever they appear. */
export const SECRET_KEYS = [
  'password',
  'passphrase',
  'privateKey',
  'private_key',
  'secret',
  'token',
  'adminToken',
  'apiToken',
  'authorization',
] as const;

const SECRET_KEY_SET = new Set<string>(SECRET_KEYS.map((key) => key.toLowerCase()));

export const REDACTED = '[redacted]';

/** Answers by key as given: a listing of 1,000 records asks about the same few dozen keys tens of thousands of times. */
const secretKeyAnswers = new Map<string, boolean>();

export function isSecretKey(key: string): boolean {
  let answer = secretKeyAnswers.get(key);
  if (answer === undefined) {
    answer = SECRET_KEY_SET.has(key.toLowerCase());
    // Bounded: keys come from records and payloads, and a flood of distinct ones must not grow the map forever.
    if (secretKeyAnswers.size < 10_000) secretKeyAnswers.set(key, answer);
  }
  return answer;
}

/** Deep copy of `value` with every secret-named property replaced by {@link REDACTED}. */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    return items.map((item) => redactSecrets(item)) as T;
  }
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    out[key] = isSecretKey(key) && item !== undefined && item !== null ? REDACTED : redactSecrets(item);
  }
  return out as T;
}
