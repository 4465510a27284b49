import type { PluginType } from './plugin-type.js';

/** A build number: numbers separated by dots, not all zeros. */
const BUILD_NUMBER_PATTERN = '^([0-9]+\\.)*[0-9]*[1-9][0-9]*(\\.[0-9]+)*$';

/**
 * JSON Schema (draft-07) of plugin.yml: the vSDK plugin config fields (reference section 4), camelCase, with dvx's
 * values (language TYPESCRIPT, host type UNIX, an entry point that is a file). `fix` (not a JSON Schema keyword) says
 * what to write instead; the toolchain shows it next to the error.
 */
export const PLUGIN_CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://dvx.dev/schemas/plugin-config.json',
  title: 'dvx plugin config (plugin.yml)',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'buildNumber', 'hostTypes', 'entryPoint', 'srcDir', 'schemaFile', 'pluginType', 'language'],
  fix: 'plugin.yml must be a mapping of the plugin config fields (run `dvx plugin init` to see one)',
  properties: {
    id: {
      type: 'string',
      pattern:
        '^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[a-z][a-z0-9-]*(\\.[a-z0-9][a-z0-9-]*)+)$',
      fix: 'set id to a UUID (e.g. from `uuidgen`) or a reverse-DNS name like com.example.myplugin; never change it once the plugin is installed',
    },
    name: { type: 'string', minLength: 1, fix: 'set name to the display name of the plugin' },
    externalVersion: {
      type: 'string',
      minLength: 1,
      fix: 'set externalVersion to the version users see, quoted, e.g. "1.0.0" (or leave it out: it defaults to buildNumber)',
    },
    buildNumber: {
      type: 'string',
      pattern: BUILD_NUMBER_PATTERN,
      fix: 'set buildNumber to numbers separated by dots, not all zeros, quoted so YAML keeps it a string: buildNumber: "1.0.0"',
    },
    hostTypes: {
      type: 'array',
      minItems: 1,
      maxItems: 1,
      items: { type: 'string', enum: ['UNIX'], fix: 'dvx runs plugins on Unix hosts only: hostTypes: [UNIX]' },
      fix: 'set hostTypes to [UNIX]',
    },
    entryPoint: {
      type: 'string',
      pattern: '^[^:]+\\.(ts|mts|js|mjs)$',
      fix: "set entryPoint to the module file whose default export is definePlugin(...), relative to plugin.yml, e.g. src/index.ts (dvx takes a file, not the vSDK's module:symbol)",
    },
    srcDir: {
      type: 'string',
      minLength: 1,
      fix: 'set srcDir to the folder of the plugin sources, relative to plugin.yml, e.g. src',
    },
    schemaFile: {
      type: 'string',
      minLength: 1,
      fix: 'set schemaFile to the schema file, relative to plugin.yml, e.g. schema.json',
    },
    pluginType: {
      type: 'string',
      enum: ['STAGED', 'DIRECT'],
      fix: 'set pluginType to STAGED (ingestion through a staging mount) or DIRECT (the engine copies with runSync)',
    },
    language: {
      type: 'string',
      const: 'TYPESCRIPT',
      fix: 'set language to TYPESCRIPT (plugin.yml describes a TypeScript plugin; a Python vSDK plugin is described by plugin_config.yml instead)',
    },
    manualDiscovery: { type: 'boolean', fix: 'set manualDiscovery to true or false (default true)' },
    defaultLocale: {
      type: 'string',
      pattern: '^[a-z]{2,3}(-[a-zA-Z0-9]{2,8})*$',
      fix: 'set defaultLocale to a locale like en-us',
    },
    rootSquashEnabled: { type: 'boolean', fix: 'set rootSquashEnabled to true or false (default true)' },
    extendedStartStopHooks: { type: 'boolean', fix: 'set extendedStartStopHooks to true or false (default false)' },
    luaName: {
      type: 'string',
      pattern: '^[a-z0-9_:-]+$',
      fix: 'set luaName to the Lua toolkit name (lowercase letters, digits, _ : -) together with minimumLuaVersion',
    },
    minimumLuaVersion: {
      type: 'string',
      pattern: '^([0-9]+)\\.([0-9]+)$',
      fix: 'set minimumLuaVersion to MAJOR.MINOR, quoted, e.g. "2.3", together with luaName',
    },
  },
  dependencies: {
    luaName: ['minimumLuaVersion'],
    minimumLuaVersion: ['luaName'],
  },
} as const;

/** plugin.yml as the schema accepts it. */
export interface PluginConfig {
  id: string;
  name: string;
  externalVersion?: string;
  buildNumber: string;
  hostTypes: ['UNIX'];
  entryPoint: string;
  srcDir: string;
  schemaFile: string;
  pluginType: PluginType;
  language: 'TYPESCRIPT';
  manualDiscovery?: boolean;
  defaultLocale?: string;
  rootSquashEnabled?: boolean;
  extendedStartStopHooks?: boolean;
  luaName?: string;
  minimumLuaVersion?: string;
}
