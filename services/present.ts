import { isSecretKey, REDACTED } from '../log/redact.js';
import { SecretBox } from '../model/secret-box.js';

/**
 * A copy of a value fit for an API response: sealed secrets and secret-named properties are replaced by
 * `[redacted]`, so no password or key leaves the engine, whatever record or run context it sits in.
 */
export function present<T>(value: T): T {
  if (SecretBox.isSealed(value)) return REDACTED as T;
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    return items.map((item) => present(item)) as T;
  }
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    const item = source[key];
    out[key] =
      item === null || item === undefined || typeof item === 'object'
        ? present(item)
        : isSecretKey(key) || SecretBox.isSealed(item)
          ? REDACTED
          : item;
  }
  return out as T;
}
