// The plugin's schema definitions (schema.json) as TypeScript types.

export interface Repository extends Record<string, unknown> {
  name: string;
  binDir: string;
  version: string;
}

export interface SourceConfig extends Record<string, unknown> {
  name: string;
  dataDir: string;
  port?: number;
  superuser?: string;
}

export interface LinkedSource extends Record<string, unknown> {
  mountPath: string;
  sourceHost?: string;
  sourcePort?: number;
  replicationUser: string;
  password: string;
  stagingPort: number;
  stagingBinDir?: string;
  osUser?: string;
  catchUpTimeoutSeconds?: number;
}

export interface VirtualSourceParameters extends Record<string, unknown> {
  mountPath: string;
  port: number;
  listenAddresses?: string;
  osUser?: string;
  startTimeoutSeconds?: number;
}

export interface Snapshot extends Record<string, unknown> {
  lsn?: string;
  timestamp?: string;
  pgVersion?: string;
  timeline?: number;
  superuser?: string;
}

export interface SnapshotParameters extends Record<string, unknown> {
  resync?: boolean;
}

export interface Definitions {
  repository: Repository;
  sourceConfig: SourceConfig;
  linkedSource: LinkedSource;
  virtualSource: VirtualSourceParameters;
  snapshot: Snapshot;
  snapshotParameters: SnapshotParameters;
}

export const DEFAULT_OS_USER = 'postgres';

/** The major version of a full version string: `15.14` -> `15`, `9.6.24` -> `9.6`. */
export function majorVersion(version: string): string {
  const parts = version.split('.');
  const [major = ''] = parts;
  return Number(major) >= 10 ? major : parts.slice(0, 2).join('.');
}
