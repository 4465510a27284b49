import type { SerializedError } from '../errors/index.js';
import type { ResolvedMount } from './dsource.js';
import type { StoredRecord } from './record-store.js';
import type { RuntimeStatus } from './runtime-status.js';

/** A writable thin copy of a snapshot, mounted on a target environment. */
export interface VdbRecord extends StoredRecord {
  name: string;
  pluginId: string;
  /** The dSource or VDB this VDB was provisioned from (its refresh source). */
  parentType: 'dsource' | 'vdb';
  parentId: string;
  /** The snapshot it was provisioned from. */
  provisionedFromSnapshotId: string;
  environmentId: string;
  repositoryId: string;
  /** virtualSourceDefinition data; password fields sealed. */
  parameters: Record<string, unknown>;
  /** What configure/reconfigure returned; password fields sealed. */
  sourceConfig: Record<string, unknown> | null;
  currentTimeflowId: string | null;
  mounts: ResolvedMount[] | null;
  ownership: { uid: number; gid: number } | null;
  status: 'PROVISIONING' | 'READY' | 'FAILED' | 'DELETING';
  enabled: boolean;
  /** Whether the database runs: what the last run did, then what the plugin's status says at each health check. */
  running: boolean;
  lastRunId: string | null;
  lastError: SerializedError | null;
  /** Kept by the health monitor. */
  runtime?: RuntimeStatus;
}
