import type { StoredRecord } from './record-store.js';

/** One dataset on a repository: discovered by the plugin or added by a user. */
export interface SourceConfigRecord extends StoredRecord {
  environmentId: string;
  repositoryId: string;
  pluginId: string;
  name: string;
  identity: string;
  /** Plugin data; fields of format password are sealed. */
  parameters: Record<string, unknown>;
  discovered: boolean;
  linkingEnabled: boolean;
}
