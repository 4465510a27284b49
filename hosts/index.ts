export type {
  CommandHost,
  ExecOptions,
  ExecResult,
  HostAddress,
  HostConnection,
  HostCredentials,
  HostProcess,
  HostSpec,
  KeySigner,
  SpawnOptions,
} from './host-connection.js';
export {
  fetchHostKey,
  fingerprintOf,
  FETCH_HOST_KEY_DEFAULTS,
  type FetchHostKeyOptions,
  type HostKey,
} from './host-key.js';
export { SshConnectionPool, type SshConnectionPoolOptions } from './ssh-connection-pool.js';
export {
  SshHostConnection,
  SSH_CONNECTION_DEFAULTS,
  type SshConnectionOptions,
  type SshConnectionStats,
} from './ssh-host-connection.js';
export { runBash, type RunBashOptions } from './run-bash.js';
export { runExpect, type RunExpectOptions } from './run-expect.js';
export type { RunScriptOptions } from './run-script.js';
export {
  inPlaceArgs,
  IN_PLACE_BLOCK_BYTES,
  IN_PLACE_MAX_BLOCKS,
  runSync,
  type RunSyncResult,
  type RunSyncDestination,
  type RunSyncOptions,
  type RunSyncSource,
  type RunSyncStats,
} from './run-sync.js';
export { probeHost, type HostFacts, type ProbeHostOptions } from './probe-host.js';
