// The settings dvx owns in a cluster's postgresql.auto.conf (read after postgresql.conf, so they win), and the
// quoting that PostgreSQL's configuration files and libpq connection strings need.

/** Settings dvx sets, or removes from a clone (recovery settings of the staging standby). */
const MANAGED_KEYS = [
  'port',
  'listen_addresses',
  'unix_socket_directories',
  'unix_socket_permissions',
  'hba_file',
  'ident_file',
  'hot_standby',
  'archive_mode',
  'cluster_name',
  'external_pid_file',
  'wal_init_zero',
  'wal_recycle',
  'recovery_init_sync_method',
  'primary_conninfo',
  'primary_slot_name',
  'restore_command',
  'recovery_target',
  'recovery_target_lsn',
  'recovery_target_name',
  'recovery_target_time',
  'recovery_target_xid',
  'recovery_target_action',
  'recovery_target_timeline',
  'recovery_target_inclusive',
] as const;

/** A string as a postgresql.conf value: single quotes, quotes doubled, backslashes escaped. */
function confString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** One value of a libpq connection string. */
function conninfoValue(value: string): string {
  return /^[A-Za-z0-9_.\/:@-]+$/.test(value) ? value : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A libpq connection string from its keywords. */
export function conninfo(parts: Record<string, string | number>): string {
  return Object.entries(parts)
    .map(([key, value]) => `${key}=${conninfoValue(String(value))}`)
    .join(' ');
}

/** A line of a password file: `*:*:*:user:password`, with `\` and `:` escaped. */
export function pgpassLine(user: string, password: string): string {
  const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
  return `*:*:*:${escape(user)}:${escape(password)}`;
}

interface ConfigBlockOptions {
  port: number;
  /** `''` for a staging standby (Unix socket only). */
  listenAddresses: string;
  socketDir: string;
  mountPath: string;
  clusterName: string;
  /** Staging only: the standby's connection to the source. */
  primaryConninfo?: string;
  /** Major version of the server binaries (`15`, `9.6`): settings newer than it are left out. */
  majorVersion: string;
}

/** The lines dvx appends to postgresql.auto.conf after removing {@link MANAGED_KEYS}. */
export function configBlock(options: ConfigBlockOptions): string {
  const lines = [
    `port = ${options.port}`,
    `listen_addresses = ${confString(options.listenAddresses)}`,
    `unix_socket_directories = ${confString(options.socketDir)}`,
    // Only the OS user (and root) may reach the socket: dvx's own connections use trust on it.
    `unix_socket_permissions = 0700`,
    `hba_file = ${confString(`${options.mountPath}/dvx/pg_hba.conf`)}`,
    `ident_file = ${confString(`${options.mountPath}/dvx/pg_ident.conf`)}`,
    `hot_standby = on`,
    // A VDB must never archive into the source's archive.
    `archive_mode = off`,
    `external_pid_file = ''`,
    `cluster_name = ${confString(options.clusterName)}`,
  ];
  // On copy-on-write storage, zero-filled and recycled WAL segments only cost space in every snapshot and clone.
  if (Number(options.majorVersion) >= 12) lines.push('wal_init_zero = off', 'wal_recycle = off');
  // A clone starts as after a crash, and fsyncs every file first; one syncfs of the storage costs far less.
  if (Number(options.majorVersion) >= 14) lines.push('recovery_init_sync_method = syncfs');
  if (options.primaryConninfo) lines.push(`primary_conninfo = ${confString(options.primaryConninfo)}`);
  return lines.join('\n');
}

/** The `sed -E` alternation of {@link MANAGED_KEYS}. */
export const MANAGED_KEYS_PATTERN = MANAGED_KEYS.join('|');
