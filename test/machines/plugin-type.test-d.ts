/*
 * One spelling of the plugin type. Machines may import only xstate and their own folder, so there are two
 * declarations: machines' PluginType (PLUGIN_TYPES) and schemas/plugin-type.ts, which the records, the plugin
 * manifest, its config and the SDK use. They must agree exactly: checked here by tsc.
 */
import type { PluginType } from '../../machines/index.js';
import type { DsourceRecord } from '../../model/dsource.js';
import type { PluginRecord } from '../../model/plugin-record.js';
import type { PluginManifest } from '../../operations/plugin-artifact.js';
import type { PluginKind } from '../../operations/sdk/index.js';
import type { PluginConfig } from '../../schemas/plugin-config.schema.js';
import type { PluginType as SchemasPluginType } from '../../schemas/plugin-type.js';

/** True when A and B are the same type (neither wider nor narrower). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export const agreements: [
  Same<PluginType, SchemasPluginType>,
  Same<PluginType, DsourceRecord['pluginType']>,
  Same<PluginType, PluginRecord['pluginType']>,
  Same<PluginType, PluginManifest['pluginType']>,
  Same<PluginType, PluginKind>,
  Same<PluginType, PluginConfig['pluginType']>,
] = [true, true, true, true, true, true];

// @ts-expect-error the check fails for a type that is not the same
export const disagreement: Same<PluginType, 'STAGED' | 'DIRECT' | 'HYBRID'> = true;
