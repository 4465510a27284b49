import type { SerializedError } from '../errors/index.js';
import type { StoredRecord } from './record-store.js';
import type { RuntimeStatus } from './runtime-status.js';

/** What probing a host found (hosts/probe-host). */
export type { HostFacts } from '../hosts/probe-host.js';
import type { HostFacts } from '../hosts/probe-host.js';

/** A host dvx reaches over SSH: source, staging or target. */
export interface EnvironmentRecord extends StoredRecord {
  name: string;
  address: { host: string; port: number; user: string };
  /** Sealed with the engine's secret box; never returned by the API. */
  credentials: { privateKey?: string; passphrase?: string; password?: string };
  /** Pinned when the environment was added. */
  hostKey: { key: string; fingerprint: string };
  hostType: 'UNIX';
  facts: HostFacts | null;
  /** Where plugins may keep per-object scratch files on the host. */
  scratchPath: string;
  status: 'DISCOVERING' | 'ACTIVE' | 'FAILED';
  lastRunId: string | null;
  lastError: SerializedError | null;
  /** Kept by the health monitor. */
  runtime?: RuntimeStatus;
}
