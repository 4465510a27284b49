/** JSON Schema (draft-07) of the artifact `dvx plugin build` writes (operations/plugin-artifact.ts `PluginArtifact`). */
export const PLUGIN_ARTIFACT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'dvx plugin artifact',
  type: 'object',
  required: ['formatVersion', 'manifest', 'schemas', 'code', 'codeSha256', 'builtAt'],
  properties: {
    formatVersion: { const: 1, fix: 'build the plugin again with this version of dvx' },
    manifest: {
      type: 'object',
      required: ['id', 'name', 'externalVersion', 'buildNumber', 'pluginType', 'hostTypes', 'language', 'defaultLocale', 'rootSquashEnabled', 'operations', 'migrationIds'],
      properties: {
        id: { type: 'string', minLength: 1 },
        name: { type: 'string', minLength: 1 },
        externalVersion: { type: 'string', minLength: 1 },
        buildNumber: { type: 'string', pattern: '^([0-9]+\\.)*[0-9]*[1-9][0-9]*(\\.[0-9]+)*$' },
        pluginType: { enum: ['STAGED', 'DIRECT'] },
        hostTypes: { type: 'array', items: { const: 'UNIX' }, minItems: 1, maxItems: 1 },
        language: { const: 'TYPESCRIPT' },
        defaultLocale: { type: 'string' },
        rootSquashEnabled: { type: 'boolean' },
        operations: { type: 'array', uniqueItems: true, items: { type: 'string' } },
        migrationIds: {
          type: 'object',
          required: ['repository', 'sourceConfig', 'linkedSource', 'virtualSource', 'snapshot'],
          additionalProperties: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    schemas: {
      type: 'object',
      required: ['repositoryDefinition', 'sourceConfigDefinition', 'linkedSourceDefinition', 'virtualSourceDefinition', 'snapshotDefinition', 'snapshotParametersDefinition'],
      additionalProperties: { type: 'object' },
    },
    code: { type: 'string', minLength: 1 },
    codeSha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    builtAt: { type: 'string', format: 'date-time' },
  },
  fix: 'build the plugin again with `dvx plugin build` and use DIR/build/artifact.json',
} as const;
