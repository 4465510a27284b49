import { createHash } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { PluginArtifact, SchemaDefinitionName } from './plugin-artifact.js';

// ajv-formats is CommonJS with `exports.default`: under NodeNext its default import is the module, whose
// `default` is the plugin (the same function at run time).
const addFormats = addFormatsModule.default;

/** Formats plugin schemas may use beyond JSON Schema's own (vSDK section 5). */
export const PLUGIN_FORMATS = ['unixpath', 'password', 'reference'] as const;

/** An ajv instance with JSON Schema draft-07 formats and the plugin formats. */
export function createPluginAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  for (const format of PLUGIN_FORMATS) ajv.addFormat(format, true);
  return ajv;
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
          : (error.message ?? 'is invalid');
    return { pointer: `${prefix}${error.instancePath}${extra}` || '/', message };
  });
}
