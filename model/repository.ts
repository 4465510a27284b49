import type { StoredRecord } from './record-store.js';

/** Software on an environment that can hold datasets, found by a plugin's discovery. */
export interface RepositoryRecord extends StoredRecord {
  environmentId: string;
  pluginId: string;
  /** The value of the plugin's name field. */
  name: string;
  /** Canonical JSON of the identity fields: two discoveries with equal identity are the same repository. */
  identity: string;
  parameters: Record<string, unknown>;
}
