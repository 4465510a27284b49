import type { SerializedError } from '../errors/index.js';
import type { StoredRecord } from './record-store.js';
import type { RuntimeStatus } from './runtime-status.js';

/**
 * What probing the host found, as the environment record keeps it. The same shape as `hosts/probe-host.ts`'s result,
 * declared here because model/ imports no other dvx folder (test/hosts/probe-host.test.ts checks that they agree).
 */
export interface HostFacts {
  /** Distribution name (`PRETTY_NAME` of /etc/os-release), else the kernel name. */
  os: string;
  /** `uname -r`. */
  kernel: string;
  user: string;
  uid: number;
  home: string;
  bashVersion: string;
  /** `rsync --version`'s version, or null when rsync is not installed. */
  rsyncVersion: string | null;
  expectAvailable: boolean;
  /** The user can mount: root, or passwordless sudo. */
  canMount: boolean;
  /** A suggested directory for per-object scratch files (not created). */
  scratchPath: string;
}

/** A way engine storage reaches a host (storage/mount-transport.ts; docs/remote-hosts.md). */
export type MountTransportKind = 'bind' | 'sshfs';

/** The transport an environment's mounts use, and why it was chosen. */
export interface EnvironmentMountTransport {
  kind: MountTransportKind;
  /** Why: the marker file probe's finding, or the override it was asked for with. */
  reason: string;
}

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
  /** The transport asked for with `dvx env add --transport`; absent or null lets each probe choose. */
  transportOverride?: MountTransportKind | null;
  /** What the last probe chose; absent before it (mounts then use bind, as before transports were chosen). */
  mountTransport?: EnvironmentMountTransport | null;
  /** A discover run's outcome; an ACTIVE environment is UNREACHABLE while the health monitor finds its host down. */
  status: 'DISCOVERING' | 'ACTIVE' | 'UNREACHABLE' | 'FAILED';
  lastRunId: string | null;
  lastError: SerializedError | null;
  /** Kept by the health monitor. */
  runtime?: RuntimeStatus;
}
