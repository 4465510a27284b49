/**
 * A plugin's ingestion strategy (the `pluginType` of its plugin.yml): staged plugins get storage mounted on a staging
 * host, direct ones copy with runSync. The one declaration below machines/; machines/lifecycle/plugin-type.ts has the
 * same (machines import nothing of dvx), and test/machines/plugin-type.test-d.ts checks the two agree.
 */
export type PluginType = 'STAGED' | 'DIRECT';
