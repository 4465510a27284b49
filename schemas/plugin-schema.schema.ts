/**
 * JSON Schema (draft-07) of a plugin's schema.json (vSDK reference section 5): the six definitions, each a draft-07
 * schema of an object; identityFields and nameField on the repository and source config definitions only;
 * recordSizeInKB an integer where it is allowed. What JSON Schema cannot say (identity fields naming real properties,
 * known formats) the toolchain checks in code. `fix` (not a JSON Schema keyword) says what to write instead.
 */
const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

const OBJECT_SCHEMA = {
  type: 'object',
  required: ['type'],
  properties: { type: { const: 'object', fix: 'set "type": "object": every definition describes an object' } },
};

const DISCOVERED_DEFINITION = {
  allOf: [
    { $ref: DRAFT_07 },
    OBJECT_SCHEMA,
    {
      required: ['identityFields', 'nameField'],
      properties: {
        identityFields: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { type: 'string' },
          fix: 'set identityFields to the names of the properties that identify the object, e.g. ["path"]',
        },
        nameField: {
          type: 'string',
          fix: 'set nameField to the name of the string property shown as the object\'s name, e.g. "name"',
        },
      },
    },
  ],
};

const ONLY_ON_DISCOVERED = {
  identityFields: {
    not: {},
    fix: 'remove identityFields: it belongs only to repositoryDefinition and sourceConfigDefinition',
  },
  nameField: { not: {}, fix: 'remove nameField: it belongs only to repositoryDefinition and sourceConfigDefinition' },
};

const RECORD_SIZE = {
  properties: {
    properties: {
      properties: {
        recordSizeInKB: {
          required: ['type'],
          properties: {
            type: { const: 'integer', fix: 'make recordSizeInKB { "type": "integer" } (a power of 2 from 1 to 16384)' },
          },
        },
      },
    },
  },
};

const PLAIN_DEFINITION = { allOf: [{ $ref: DRAFT_07 }, OBJECT_SCHEMA, { properties: ONLY_ON_DISCOVERED }] };
const SOURCE_DEFINITION = { allOf: [...PLAIN_DEFINITION.allOf, RECORD_SIZE] };

export const PLUGIN_SCHEMA_SCHEMA = {
  $schema: DRAFT_07,
  title: 'dvx plugin schema file (schema.json)',
  type: 'object',
  additionalProperties: false,
  required: [
    'repositoryDefinition',
    'sourceConfigDefinition',
    'linkedSourceDefinition',
    'virtualSourceDefinition',
    'snapshotDefinition',
    'snapshotParametersDefinition',
  ],
  fix: 'schema.json must be an object of the six definitions (run `dvx plugin init` to see one)',
  properties: {
    repositoryDefinition: {
      ...DISCOVERED_DEFINITION,
      fix: 'add repositoryDefinition: the schema of a repository, with identityFields and nameField',
    },
    sourceConfigDefinition: {
      ...DISCOVERED_DEFINITION,
      fix: 'add sourceConfigDefinition: the schema of a source config, with identityFields and nameField',
    },
    linkedSourceDefinition: {
      ...SOURCE_DEFINITION,
      fix: "add linkedSourceDefinition: the schema of a dSource's parameters",
    },
    virtualSourceDefinition: {
      ...SOURCE_DEFINITION,
      fix: "add virtualSourceDefinition: the schema of a VDB's parameters",
    },
    snapshotDefinition: {
      ...PLAIN_DEFINITION,
      fix: 'add snapshotDefinition: the schema of the metadata postSnapshot returns',
    },
    snapshotParametersDefinition: {
      ...PLAIN_DEFINITION,
      fix: 'add snapshotParametersDefinition: the schema of a sync\'s parameters, e.g. { "type": "object", "properties": { "resync": { "type": "boolean" } } }',
    },
  },
} as const;

/**
 * The schema file of a Python (vSDK) plugin: the same, and the vSDK 5.1's `virtualToPhysicalDefinition` (the
 * parameters of its source_to_physical operation) may be there, as vSDK 5.1 plugins have it; dvx runs no V2P.
 */
export const PYTHON_PLUGIN_SCHEMA_SCHEMA = {
  ...PLUGIN_SCHEMA_SCHEMA,
  properties: {
    ...PLUGIN_SCHEMA_SCHEMA.properties,
    virtualToPhysicalDefinition: {
      ...PLAIN_DEFINITION,
      fix: 'write virtualToPhysicalDefinition as the JSON Schema of an object (dvx keeps it and runs no V2P)',
    },
  },
} as const;

/** `referenceType` values a `format: reference` property may name (the docs' spelling and real plugins' spelling). */
export const REFERENCE_TYPES = [
  'UNIX_HOST_ENVIRONMENT',
  'HOST_USER',
  'UnixHostEnvironment',
  'EnvironmentUser',
] as const;
