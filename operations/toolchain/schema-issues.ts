// ajv's errors turned into build issues a plugin author can act on: one per problem, with the JSON pointer of the
// offending value and the `fix` the toolchain's schemas give for it.
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createPluginAjv } from '../schemas-of.js';
import type { PluginBuildIssue } from './plugin-build-error.js';

type SchemaNode = Record<string, unknown>;

function unescapePointerToken(token: string): string {
  return decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The schema node at a local schema path (`#/properties/id/pattern` gives the `id` schema); undefined outside the root. */
function schemaAt(root: SchemaNode, schemaPath: string): SchemaNode | undefined {
  if (!schemaPath.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const token of schemaPath.slice(2).split('/').slice(0, -1)) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as SchemaNode)[unescapePointerToken(token)];
  }
  return node && typeof node === 'object' ? (node as SchemaNode) : undefined;
}

/** The value at a JSON pointer of `data`. */
function valueAt(data: unknown, pointer: string): unknown {
  let node = data;
  for (const token of pointer.split('/').slice(1)) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as SchemaNode)[unescapePointerToken(token)];
  }
  return node;
}

/** `token` as one JSON pointer token (`~` and `/` escaped). */
export const escapeToken = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function fixOf(node: SchemaNode | undefined): string | undefined {
  return typeof node?.fix === 'string' ? node.fix : undefined;
}

function describe(error: ErrorObject, data: unknown): string {
  const params = error.params as Record<string, unknown>;
  const value = valueAt(data, error.instancePath);
  switch (error.keyword) {
    case 'type':
      return `must be ${params.type === 'integer' ? 'an integer' : `a${/^[aeiou]/.test(String(params.type)) ? 'n' : ''} ${String(params.type)}`}, not ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value} ${shown(value)}`;
    case 'enum':
      return `is ${shown(value)}; must be one of ${(params.allowedValues as unknown[]).map((allowed) => String(allowed)).join(', ')}`;
    case 'const':
      return `is ${shown(value)}; must be ${shown(params.allowedValue)}`;
    case 'pattern':
      return `is ${shown(value)}, which is not in the expected form`;
    case 'not':
    case 'false schema':
      return 'is not allowed here';
    case 'minItems':
    case 'maxItems':
    case 'minLength':
    case 'uniqueItems':
      return `is ${shown(value)}; it ${error.message ?? 'is invalid'}`;
    default:
      return error.message ?? 'is invalid';
  }
}

/** A validator of one of the toolchain's own schemas, compiled on first use (not when the CLI loads). */
export function lazyValidator<T = unknown>(schema: object): () => ValidateFunction<T> {
  let compiled: ValidateFunction<T> | undefined;
  return () => (compiled ??= createPluginAjv().compile<T>(schema));
}

/**
 * Build issues of `file` from ajv's errors of validating `data` against `schema`. Errors under an anyOf/oneOf are
 * folded into one issue per place. `defaultFix` is the fix of errors whose schema gives none.
 */
export function schemaIssues(
  file: string,
  schema: object,
  data: unknown,
  errors: ErrorObject[] | null | undefined,
  defaultFix?: string,
): PluginBuildIssue[] {
  const root = schema as SchemaNode;
  const issues: PluginBuildIssue[] = [];
  const all = errors ?? [];
  const branches = all.filter((error) => error.keyword === 'anyOf' || error.keyword === 'oneOf');
  const seen = new Set<string>();
  for (const error of all) {
    const params = error.params as Record<string, unknown>;
    const inBranch = branches.find((branch) => branch !== error && error.instancePath === branch.instancePath);
    if (inBranch) continue;
    let pointer = error.instancePath;
    let message: string;
    let fix: string | undefined = fixOf(schemaAt(root, error.schemaPath)) ?? defaultFix;
    if (error.keyword === 'required') {
      const missing = String(params.missingProperty);
      pointer = `${error.instancePath}/${escapeToken(missing)}`;
      message = 'is required';
      fix =
        fixOf((schemaAt(root, error.schemaPath)?.properties as Record<string, SchemaNode> | undefined)?.[missing]) ??
        `add ${missing}`;
    } else if (error.keyword === 'additionalProperties') {
      const extra = String(params.additionalProperty);
      pointer = `${error.instancePath}/${escapeToken(extra)}`;
      message = 'is not a known field';
      const known = Object.keys((schemaAt(root, error.schemaPath)?.properties as object | undefined) ?? {});
      fix = `remove it or correct its spelling${known.length ? `; the fields are ${known.join(', ')}` : ''}`;
    } else if (error.keyword === 'dependencies') {
      message = `is missing ${String(params.missingProperty)}, which must be set together with ${String(params.property)}`;
      fix = `set both ${String(params.property)} and ${String(params.missingProperty)}, or neither`;
      pointer = `${error.instancePath}/${escapeToken(String(params.missingProperty))}`;
    } else if (error.keyword === 'anyOf' || error.keyword === 'oneOf') {
      const children = all.filter(
        (child) => child !== error && child.instancePath === error.instancePath && !branches.includes(child),
      );
      message = children.length ? children.map((child) => describe(child, data)).join(', or ') : describe(error, data);
    } else {
      message = describe(error, data);
    }
    const key = `${pointer}\n${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ file, pointer: pointer || '', message, ...(fix ? { fix } : {}) });
  }
  return issues;
}
