/** Plugin ingestion strategies: staged plugins get storage mounted on a staging host, direct ones copy with runSync. */
export const PLUGIN_TYPES = ['STAGED', 'DIRECT'] as const;

/** A plugin's ingestion strategy (the `pluginType` of its plugin.yml). */
export type PluginType = (typeof PLUGIN_TYPES)[number];
