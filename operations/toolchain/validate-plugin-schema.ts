import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  PLUGIN_SCHEMA_SCHEMA,
  PYTHON_PLUGIN_SCHEMA_SCHEMA,
  REFERENCE_TYPES,
} from '../../schemas/plugin-schema.schema.js';
import { SCHEMA_DEFINITIONS, type SchemaDefinitionName } from '../plugin-artifact.js';
import { createPluginAjv, PLUGIN_FORMATS } from '../schemas-of.js';
import type { PluginBuildIssue } from './plugin-build-error.js';
import { escapeToken, lazyValidator, schemaIssues } from './schema-issues.js';

/** The six definitions of a valid schema file. */
export type PluginSchemas = Record<SchemaDefinitionName, Record<string, unknown>>;

/** What {@link readPluginSchema} found: the definitions when they are valid, and every problem otherwise. */
export interface PluginSchemaReading {
  schemas?: PluginSchemas;
  issues: PluginBuildIssue[];
}

type SchemaNode = Record<string, unknown>;

const schemaFileValidator = lazyValidator(PLUGIN_SCHEMA_SCHEMA);
const pythonSchemaFileValidator = lazyValidator(PYTHON_PLUGIN_SCHEMA_SCHEMA);
let knownFormats: string[] | undefined;
/** The formats a definition may use (draft-07's and the plugin formats), read on first use. */
const formatsKnown = () => (knownFormats ??= Object.keys(createPluginAjv().formats).sort());
const DISCOVERED: ReadonlySet<string> = new Set(['repositoryDefinition', 'sourceConfigDefinition']);
// Keywords whose values are data, not schemas: a `format` key inside them is not a format.
const DATA_KEYWORDS = new Set([
  'enum',
  'const',
  'default',
  'examples',
  'identityFields',
  'nameField',
  'required',
  'ordering',
  'dxFormProperties',
]);

/** Every `format` use of a schema: unknown formats, formats on non-strings, references without a known referenceType. */
function formatIssues(file: string, node: unknown, pointer: string, issues: PluginBuildIssue[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, index) => formatIssues(file, item, `${pointer}/${index}`, issues));
    return;
  }
  if (!node || typeof node !== 'object') return;
  const schema = node as SchemaNode;
  if (typeof schema.format === 'string') {
    const format = schema.format;
    const known = formatsKnown();
    if (!known.includes(format)) {
      issues.push({
        file,
        pointer: `${pointer}/format`,
        message: `is ${JSON.stringify(format)}, which is not a known format`,
        fix: `use one of ${known.join(', ')}, or remove format`,
      });
    } else if (
      schema.type !== undefined &&
      schema.type !== 'string' &&
      (PLUGIN_FORMATS as readonly string[]).includes(format)
    ) {
      issues.push({
        file,
        pointer: `${pointer}/type`,
        message: `is ${JSON.stringify(schema.type)}, but format ${format} applies to strings`,
        fix: 'set "type": "string"',
      });
    }
    if (format === 'reference' && !(REFERENCE_TYPES as readonly unknown[]).includes(schema.referenceType)) {
      issues.push({
        file,
        pointer: `${pointer}/referenceType`,
        message:
          schema.referenceType === undefined
            ? 'is required with format reference'
            : `is ${JSON.stringify(schema.referenceType)}, which is not a reference type`,
        fix: `set referenceType to one of ${REFERENCE_TYPES.join(', ')}`,
      });
    }
  }
  for (const [key, value] of Object.entries(schema)) {
    if (DATA_KEYWORDS.has(key)) continue;
    formatIssues(file, value, `${pointer}/${escapeToken(key)}`, issues);
  }
}

/** identityFields and nameField must name properties the definition declares (nameField a string one). */
function identityIssues(file: string, name: string, definition: SchemaNode): PluginBuildIssue[] {
  const issues: PluginBuildIssue[] = [];
  const properties = (
    definition.properties && typeof definition.properties === 'object' ? definition.properties : {}
  ) as Record<string, SchemaNode>;
  const declared = Object.keys(properties);
  const known = declared.length ? `; its properties are ${declared.join(', ')}` : '; it declares no properties';
  (definition.identityFields as string[]).forEach((field, index) => {
    if (!Object.hasOwn(properties, field))
      issues.push({
        file,
        pointer: `/${name}/identityFields/${index}`,
        message: `is ${JSON.stringify(field)}, which is not a property of ${name}`,
        fix: `name a declared property${known}`,
      });
  });
  const nameField = definition.nameField as string;
  if (!Object.hasOwn(properties, nameField)) {
    issues.push({
      file,
      pointer: `/${name}/nameField`,
      message: `is ${JSON.stringify(nameField)}, which is not a property of ${name}`,
      fix: `name a declared string property${known}`,
    });
  } else if (properties[nameField]?.type !== 'string') {
    issues.push({
      file,
      pointer: `/${name}/properties/${nameField}/type`,
      message: `is ${JSON.stringify(properties[nameField]?.type)}, but the nameField property must be a string`,
      fix: 'set "type": "string" on it, or choose another nameField',
    });
  }
  return issues;
}

/** Validates parsed schema-file content: the meta rules, then identity fields, formats, and that ajv compiles each definition. */
function validatePluginSchema(file: string, data: unknown, python: boolean): PluginSchemaReading {
  const validate = python ? pythonSchemaFileValidator() : schemaFileValidator();
  if (!validate(data))
    return {
      issues: schemaIssues(
        file,
        python ? PYTHON_PLUGIN_SCHEMA_SCHEMA : PLUGIN_SCHEMA_SCHEMA,
        data,
        validate.errors,
        'write it as JSON Schema draft-07 allows (see https://json-schema.org/draft-07)',
      ),
    };
  const schemas = data as PluginSchemas;
  const issues: PluginBuildIssue[] = [];
  for (const name of SCHEMA_DEFINITIONS) {
    const definition = schemas[name];
    if (DISCOVERED.has(name)) issues.push(...identityIssues(file, name, definition));
    const formats: PluginBuildIssue[] = [];
    formatIssues(file, definition, `/${name}`, formats);
    issues.push(...formats);
    if (formats.length) continue;
    try {
      createPluginAjv().compile(definition);
    } catch (error) {
      issues.push({
        file,
        pointer: `/${name}`,
        message: `cannot be compiled: ${(error as Error).message}`,
        fix: 'correct the schema ($ref targets must exist inside the definition)',
      });
    }
  }
  return issues.length ? { issues } : { schemas, issues };
}

/** Reads and validates the plugin's schema file (`schemaFile` of plugin.yml, relative to DIR). */
export async function readPluginSchema(
  dir: string,
  schemaFile: string,
  options: {
    /** A Python (vSDK) plugin's: vSDK 5.1's virtualToPhysicalDefinition may be there too. @defaultValue false */
    python?: boolean;
  } = {},
): Promise<PluginSchemaReading> {
  let text: string;
  try {
    text = await readFile(resolve(dir, schemaFile), 'utf8');
  } catch {
    return {
      issues: [
        {
          file: schemaFile,
          pointer: '',
          message: `is missing from ${dir}`,
          fix: 'create the schema file (see `dvx plugin init`) or correct schemaFile in plugin.yml',
        },
      ],
    };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message);
    const offset = position ? Number(position[1]) : undefined;
    const before = offset === undefined ? undefined : text.slice(0, offset).split('\n');
    return {
      issues: [
        {
          file: schemaFile,
          pointer: '',
          ...(before ? { line: before.length, column: (before.at(-1) ?? '').length + 1 } : {}),
          message: `is not valid JSON: ${(error as Error).message}`,
          fix: 'correct the JSON syntax at that place',
        },
      ],
    };
  }
  return validatePluginSchema(schemaFile, data, options.python ?? false);
}
