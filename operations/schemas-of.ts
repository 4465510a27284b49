import { createHash } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { unsafeTextIssue } from '../schemas/safe-text.js';
import { unixPathIssue } from '../schemas/unix-path.js';
import type { PluginArtifact, SchemaDefinitionName } from './plugin-artifact.js';

// ajv-formats is CommonJS with `exports.default`: under NodeNext its default import is the module, whose
// `default` is the plugin (the same function at run time).
const addFormats = addFormatsModule.default;

/** Formats plugin schemas may use beyond JSON Schema's own (vSDK section 5). */
export const PLUGIN_FORMATS = ['unixpath', 'password', 'reference'] as const;

/**
 * What each plugin format takes (a string; other types are left to `type`): `unixpath` an absolute, normalised path
 * of printable characters (schemas/unix-path.ts), `reference` a non-empty id of printable characters, `password` any
 * string.
 */
const FORMAT_ISSUES: Record<(typeof PLUGIN_FORMATS)[number], (value: string) => string | null> = {
  unixpath: unixPathIssue,
  reference: (value) => (value ? unsafeTextIssue(value) : 'must be a non-empty reference'),
  password: () => null,
};

/** An ajv instance with JSON Schema draft-07 formats and the plugin formats. */
export function createPluginAjv(): Ajv {
  // verbose: a format error carries its value, so that issuesOf can say what is wrong with it.
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
  addFormats(ajv);
  for (const format of PLUGIN_FORMATS) {
    const issue = FORMAT_ISSUES[format];
    ajv.addFormat(format, { type: 'string', validate: (value: string) => issue(value) === null });
  }
  return ajv;
}

/** The message of a failed plugin format: what is wrong with the value (never the value of a password). */
function formatMessage(format: unknown, value: unknown): string | null {
  if (format !== 'unixpath' && format !== 'reference') return null;
  return typeof value === 'string' ? FORMAT_ISSUES[format](value) : null;
}

// Keyed by the schema's content: two builds with the same code but different schemas never share a validator, and
// an artifact read again from Redis (the API does on every request) finds the validator compiled before.
const cache = new Map<string, ValidateFunction>();

/** The compiled validator of one schema definition of an artifact (compiled once per distinct schema). */
export function definitionValidator(artifact: PluginArtifact, definition: SchemaDefinitionName): ValidateFunction {
  const schema = artifact.schemas[definition];
  const key = createHash('sha256').update(JSON.stringify(schema)).digest('base64');
  let validate = cache.get(key);
  if (!validate) {
    validate = createPluginAjv().compile(schema);
    cache.set(key, validate);
  }
  return validate;
}

/**
 * The top-level properties of a definition that dvx takes as mount paths when the request comes: `unixpath` ones
 * whose name starts with "mount" (`mountLocation`, `mountPath`). Whatever path a plugin computes is checked again
 * when it is mounted.
 */
export function mountPathProperties(artifact: PluginArtifact, definition: SchemaDefinitionName): string[] {
  const properties = (artifact.schemas[definition] as { properties?: Record<string, { format?: unknown }> }).properties;
  return Object.entries(properties ?? {})
    .filter(([name, property]) => property?.format === 'unixpath' && /^mount/i.test(name))
    .map(([name]) => name);
}

/** ajv's errors as `pointer message` issues. */
export function issuesOf(validate: ValidateFunction, prefix = ''): { pointer: string; message: string }[] {
  return (validate.errors ?? []).map((error) => {
    const params = error.params as { missingProperty?: string; additionalProperty?: string };
    const extra =
      error.keyword === 'required'
        ? `/${params.missingProperty}`
        : error.keyword === 'additionalProperties'
          ? `/${params.additionalProperty}`
          : '';
    const message =
      error.keyword === 'required'
        ? 'is required'
        : error.keyword === 'additionalProperties'
          ? 'is not allowed'
          : ((error.keyword === 'format'
              ? formatMessage((error.params as { format?: unknown }).format, error.data)
              : null) ??
            error.message ??
            'is invalid');
    return { pointer: `${prefix}${error.instancePath}${extra}` || '/', message };
  });
}
