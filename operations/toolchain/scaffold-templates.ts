// What `dvx plugin init` writes: a minimal working plugin of each type, a directory tree copied from a source host.
import type { PluginConfig } from '../../schemas/plugin-config.schema.js';
import type { PluginSchemas } from './validate-plugin-schema.js';

/** The plugin types `dvx plugin init` scaffolds. */
export type PluginType = PluginConfig['pluginType'];

/** `value` as a plugin type, in any case (`staged`, `DIRECT`); undefined when it is neither. */
export function parsePluginType(value: string): PluginType | undefined {
  const type = value.toUpperCase();
  return type === 'STAGED' || type === 'DIRECT' ? type : undefined;
}

/** plugin.yml of a new plugin. */
export function pluginConfigText(options: { id: string; name: string; type: PluginType }): string {
  return `# The plugin config (vSDK plugin_config.yml, camelCase). \`dvx plugin build\` validates it.
# id: never change it once the plugin is installed; the engine knows the plugin by it.
id: ${options.id}
name: ${JSON.stringify(options.name)}
externalVersion: "1.0.0"
# buildNumber: numbers separated by dots, quoted; it may only increase from one upload to the next.
buildNumber: "1.0.0"
language: TYPESCRIPT
hostTypes:
  - UNIX
# STAGED: ingestion fills storage mounted on a staging host. DIRECT: the engine copies the data with runSync.
pluginType: ${options.type}
entryPoint: src/index.ts
srcDir: src
schemaFile: schema.json
defaultLocale: en-us
rootSquashEnabled: true
`;
}

const PATH = { type: 'string', format: 'unixpath' };

/** A discovered object's definition: a `name` (its nameField) and one path property `key` (its identity). */
function discoveredDefinition(key: string, path: Record<string, string>): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['name', key],
    properties: { name: { type: 'string', prettyName: 'Name' }, [key]: { ...PATH, ...path } },
    identityFields: [key],
    nameField: 'name',
  };
}

/** schema.json of a new plugin: the six definitions. */
export function pluginSchemas(type: PluginType): PluginSchemas {
  const mountLocation = { ...PATH, description: 'Absolute path where the engine mounts the storage on the host' };
  return {
    repositoryDefinition: discoveredDefinition('root', { prettyName: 'Root directory' }),
    sourceConfigDefinition: discoveredDefinition('path', {
      prettyName: 'Directory',
      description: 'Absolute path of the directory on the source host',
    }),
    linkedSourceDefinition:
      type === 'STAGED'
        ? {
            type: 'object',
            additionalProperties: false,
            required: ['mountLocation'],
            properties: { mountLocation: { ...mountLocation, prettyName: 'Staging mount' } },
          }
        : {
            type: 'object',
            additionalProperties: false,
            properties: {
              excludePaths: {
                type: 'array',
                items: { type: 'string' },
                prettyName: 'Paths not copied',
                description: 'Paths relative to the directory that ingestion skips',
              },
            },
          },
    virtualSourceDefinition: {
      type: 'object',
      additionalProperties: false,
      required: ['mountLocation'],
      properties: { mountLocation: { ...mountLocation, prettyName: 'Mount path' } },
    },
    snapshotDefinition: {
      type: 'object',
      additionalProperties: false,
      properties: { takenAt: { type: 'string', format: 'date-time' } },
    },
    snapshotParametersDefinition: {
      type: 'object',
      additionalProperties: false,
      properties: { resync: { type: 'boolean' } },
    },
  };
}

const VIRTUAL_OPERATIONS = `  virtual: {
    mountSpecification: ({ virtualSource }) => ({ mounts: [{ remoteEnvironment: virtualSource.connection.environment, mountPath: virtualSource.parameters.mountLocation }] }),
    // The VDB is the mounted copy itself: its source config is the mount directory.
    configure: ({ virtualSource }) => ({ name: virtualSource.guid, path: virtualSource.parameters.mountLocation }),
    reconfigure: ({ sourceConfig }) => sourceConfig,
    postSnapshot: () => ({ takenAt: new Date().toISOString() }),
  },`;

const DISCOVERY_OPERATIONS = `  discovery: {
    // One repository per host: its directories. Source configs (directories) are added by hand: \`dvx sourceconfig add\`.
    repository: ({ sourceConnection }) => [{ name: \`directories on \${sourceConnection.environment.name}\`, root: '/' }],
    sourceConfig: () => [],
  },`;

/** src/index.ts of a new plugin. */
export function pluginSourceText(type: PluginType): string {
  if (type === 'DIRECT') {
    return `// A direct plugin: ingests a directory of the source host (the engine copies it with runSync), provisions it as
// writable copies mounted on target hosts. Types of the schema definitions come from \`dvx plugin build\`.
import { definePlugin, runSync } from 'dvx/sdk';
import type { Definitions } from './generated/definitions.js';

export default definePlugin<Definitions, 'DIRECT'>({
${DISCOVERY_OPERATIONS}
  linked: {
    preSnapshot: async ({ directSource, sourceConfig }) => {
      await runSync({ remoteConnection: directSource.connection, sourceDirectory: sourceConfig.path, excludePaths: directSource.parameters.excludePaths ?? [] });
    },
    postSnapshot: () => ({ takenAt: new Date().toISOString() }),
  },
${VIRTUAL_OPERATIONS}
});
`;
  }
  return `// A staged plugin: ingests a directory of the source host into storage mounted on a staging host, provisions it as
// writable copies mounted on target hosts. Types of the schema definitions come from \`dvx plugin build\`.
import { definePlugin, runBash } from 'dvx/sdk';
import type { Definitions } from './generated/definitions.js';

export default definePlugin<Definitions>({
${DISCOVERY_OPERATIONS}
  linked: {
    mountSpecification: ({ stagedSource }) => ({ mounts: [{ remoteEnvironment: stagedSource.stagedConnection.environment, mountPath: stagedSource.parameters.mountLocation }] }),
    // Runs on the staging host, which must be able to read the source directory (the same host or a shared
    // filesystem). For a remote source, rsync from it over ssh instead.
    preSnapshot: async ({ stagedSource, sourceConfig }) => {
      await runBash(stagedSource.stagedConnection, 'rsync -a --delete "$SOURCE/" "$STAGING/"', { variables: { SOURCE: sourceConfig.path, STAGING: stagedSource.mount.mountPath }, checkExitCode: true });
    },
    postSnapshot: () => ({ takenAt: new Date().toISOString() }),
  },
${VIRTUAL_OPERATIONS}
});
`;
}

/** The compiler settings plugins are written and checked with (the editor's tsconfig and `dvx plugin build` agree). */
export const PLUGIN_COMPILER_OPTIONS = {
  target: 'ES2023',
  lib: ['ES2023'],
  module: 'ESNext',
  moduleResolution: 'bundler',
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  isolatedModules: true,
} as const;

/** tsconfig.json of a new plugin, for editors: `dvx/sdk` is the engine's SDK at `sdkTypes` (relative to the plugin). */
export function tsconfigText(sdkTypes: string): string {
  const config = {
    compilerOptions: { ...PLUGIN_COMPILER_OPTIONS, paths: { 'dvx/sdk': [sdkTypes] } },
    include: ['src'],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export const GITIGNORE_TEXT = 'build/\n';
