/*
 * One spelling of the plugin type. Machines may import only xstate and their own folder, and model/ and operations/
 * may not import machines/, so the declaration every layer above them uses is machines' PluginType (PLUGIN_TYPES),
 * and the records, the plugin manifest, its schema and the SDK must agree with it exactly: checked here by tsc.
 */
import type { PluginType } from '../../machines/index.js';
import type { DsourceRecord } from '../../model/dsource.js';
import type { PluginRecord } from '../../model/plugin-record.js';
import type { PluginManifest } from '../../operations/plugin-artifact.js';
import type { PluginKind } from '../../operations/sdk/index.js';
import type { PluginConfig } from '../../schemas/plugin-config.schema.js';

/** True when A and B are the same type (neither wider nor narrower). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export const agreements: [
  Same<PluginType, DsourceRecord['pluginType']>,
  Same<PluginType, PluginRecord['pluginType']>,
  Same<PluginType, PluginManifest['pluginType']>,
  Same<PluginType, PluginKind>,
  Same<PluginType, PluginConfig['pluginType']>,
] = [true, true, true, true, true];

// @ts-expect-error the check fails for a type that is not the same
export const disagreement: Same<PluginType, 'STAGED' | 'DIRECT' | 'HYBRID'> = true;
