import { createHash } from 'node:crypto';

/** A schema definition's identity and name fields (section 5 of the vSDK reference). */
interface IdentitySchema {
  identityFields?: string[];
  nameField?: string;
}

/** Canonical JSON of an object's identity fields: equal identities are the same repository or source config. */
export function identityOf(schema: unknown, data: Record<string, unknown>): string {
  const fields = (schema as IdentitySchema | undefined)?.identityFields ?? Object.keys(data).sort();
  return JSON.stringify(fields.map((field) => [field, data[field] ?? null]));
}

/** The display name of an object: the value of the schema's name field. */
export function nameOf(schema: unknown, data: Record<string, unknown>, fallback: string): string {
  const field = (schema as IdentitySchema | undefined)?.nameField;
  const value = field ? data[field] : undefined;
  return typeof value === 'string' && value ? value : fallback;
}

/** A stable id from its parts, so that re-discovery finds the same records instead of making duplicates. */
export function stableId(prefix: string, ...parts: string[]): string {
  return `${prefix}-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24)}`;
}
