import type { StoredRecord } from './record-store.js';
import type { PluginType } from '../schemas/plugin-type.js';

/** An uploaded plugin; its artifact (schemas, manifest, code) is stored beside it. Id = the plugin's id. */
export interface PluginRecord extends StoredRecord {
  name: string;
  buildNumber: string;
  externalVersion: string | null;
  pluginType: PluginType;
  /** SHA-256 of the artifact as uploaded. */
  artifactHash: string;
  uploadedBy: string;
}
