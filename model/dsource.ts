import type { SerializedError } from '../errors/index.js';
import type { StoredRecord } from './record-store.js';
import type { RuntimeStatus } from './runtime-status.js';
import type { PluginType } from '../schemas/plugin-type.js';

/** A mount as resolved from a plugin's mount specification. */
export interface ResolvedMount {
  environmentId: string;
  mountPath: string;
  sharedPath?: string;
  /**
   * dvx made the mount directory on the host when it attached (it did not exist), so it removes it, if empty, when
   * it detaches. Absent for a directory that was there before (never removed) and for a mount not attached yet.
   */
  createdByDvx?: boolean;
}

/** The engine's linked copy of a source config, kept up to date by syncs. */
export interface DsourceRecord extends StoredRecord {
  name: string;
  pluginId: string;
  pluginType: PluginType;
  sourceConfigId: string;
  repositoryId: string;
  sourceEnvironmentId: string;
  /** Staged plugins: where storage is mounted for ingestion. */
  stagingEnvironmentId: string | null;
  /** linkedSourceDefinition data; password fields sealed. */
  parameters: Record<string, unknown>;
  currentTimeflowId: string | null;
  /** Staged: the staging mount(s) and the ownership requested by the plugin. */
  stagingMounts: ResolvedMount[] | null;
  ownership: { uid: number; gid: number } | null;
  status: 'LINKING' | 'ACTIVE' | 'FAILED' | 'DELETING';
  enabled: boolean;
  lastRunId: string | null;
  lastError: SerializedError | null;
  /** Kept by the health monitor. */
  runtime?: RuntimeStatus;
}
