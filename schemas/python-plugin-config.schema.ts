import { PLUGIN_CONFIG_SCHEMA } from './plugin-config.schema.js';
import type { PluginType } from './plugin-type.js';

/**
 * JSON Schema (draft-07) of a Python (vSDK) plugin's plugin_config.yml: the vSDK's keys as its authors have them
 * (reference section 4), with dvx's values (host type UNIX; language PYTHON311 or PYTHON38; entryPoint `module:attr`).
 * PYTHON27 is refused before this schema, with why and what to do.
 */
export const PYTHON_PLUGIN_CONFIG_SCHEMA = {
  ...PLUGIN_CONFIG_SCHEMA,
  $id: 'https://dvx.dev/schemas/python-plugin-config.json',
  title: 'dvx Python plugin config (plugin_config.yml)',
  fix: 'plugin_config.yml must be a mapping of the vSDK plugin config fields',
  properties: {
    ...PLUGIN_CONFIG_SCHEMA.properties,
    entryPoint: {
      type: 'string',
      pattern: '^[^:]+:[^:]+$',
      fix: 'set entryPoint to MODULE:ATTRIBUTE, the module (importable from srcDir) and the name of its Plugin() object, e.g. plugin_runner:plugin',
    },
    language: {
      type: 'string',
      enum: ['PYTHON311', 'PYTHON38'],
      fix: 'set language to PYTHON311 (dvx runs Python plugins with Python 3.11; PYTHON38 plugins run under it too)',
    },
  },
} as const;

/** plugin_config.yml as the schema accepts it. */
export interface PythonPluginConfig {
  id: string;
  name: string;
  externalVersion?: string;
  buildNumber: string;
  hostTypes: ['UNIX'];
  entryPoint: string;
  srcDir: string;
  schemaFile: string;
  pluginType: PluginType;
  language: 'PYTHON311' | 'PYTHON38';
  manualDiscovery?: boolean;
  defaultLocale?: string;
  rootSquashEnabled?: boolean;
  extendedStartStopHooks?: boolean;
  luaName?: string;
  minimumLuaVersion?: string;
}
