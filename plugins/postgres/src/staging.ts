// Ingestion: a streaming-replication standby of the source, in the staging mount. A resync (and the first sync)
// takes a fresh pg_basebackup; a sync waits until the standby has replayed up to the source's current WAL position;
// either way the standby's files are made consistent with a restartpoint (CHECKPOINT on a standby) before the
// engine snapshots the storage.
import { type StagedLinkedOperations, type StagedSource, type UnmountedStagedSource } from 'dvx/sdk';
import { conninfo, configBlock, MANAGED_KEYS_PATTERN, pgpassLine } from './config.js';
import {
  DEFAULT_OS_USER,
  majorVersion,
  type Definitions,
  type LinkedSource,
  type Repository,
  type SourceConfig,
} from './definitions.js';
import {
  EXIT,
  osUserIds,
  pgBash,
  POST_SNAPSHOT,
  snapshotMetadata,
  STATUS,
  statusOf,
  type FailureContext,
} from './shell.js';

// The password file lives in the OS user's home, outside the mount, so that no snapshot (and no VDB) holds it.
const PASSFILE = String.raw`
PGHOME=$(getent passwd "$OS_USER" | cut -d: -f6)
PF="$PGHOME/.dvx/pgpass-$GUID"
write_passfile() {
  as_pg mkdir -p -m 0700 "$PGHOME/.dvx"
  ( umask 077; printf '%s\n' "$PGPASS_LINE" | as_pg tee "$PF" >/dev/null )
  chmod 0600 "$PF"
}
# classify OUTPUT: exit code for a failed connection to the source
classify() {
  case "$1" in
    *"password authentication failed"*|*"no password supplied"*) exit ${EXIT.authFailed} ;;
    *"no pg_hba.conf entry"*|*"must be superuser or replication role"*|*"permission denied to start WAL sender"*|*"not permitted to log in"*|*"does not exist"*) exit ${EXIT.notAllowed} ;;
    *"Connection refused"*|*"could not connect"*|*"timeout expired"*|*"could not translate host name"*|*"No route to host"*|*"Network is unreachable"*) exit ${EXIT.unreachable} ;;
    *"incompatible server version"*) exit ${EXIT.versionMismatch} ;;
  esac
  exit ${EXIT.basebackupFailed}
}
# The source's current WAL flush position, over a replication connection (all the replication user may do).
source_lsn() {
  local out
  out=$(as_pg "$BIN/psql" -X -A -t -d "$SOURCE_CONNINFO replication=true" -c IDENTIFY_SYSTEM 2>&1) || { printf '%s\n' "$out" >&2; classify "$out"; }
  out=$(printf '%s\n' "$out" | tail -n 1 | cut -d'|' -f3)
  case "$out" in *[!0-9A-Fa-f/]*|'') echo "IDENTIFY_SYSTEM returned an unexpected position: $out" >&2; exit ${EXIT.basebackupFailed} ;; esac
  echo "$out"
}
`;

const START_STAGING = String.raw`
[ -d "$D" ] || exit 0   # linked, not synced yet: the first sync takes the base backup
write_passfile
prepare
start_pg
`;

const STOP_STAGING = String.raw`
stop_pg
rm -f "$PF"
`;

const PRE_SNAPSHOT = String.raw`
need_bin pg_basebackup
write_passfile
if [ "$RESYNC" = 1 ] || [ ! -f "$D/PG_VERSION" ]; then
  stop_pg
  rm -rf -- "$D"
  mkdir -p "$X"; chown "$OS_USER:" "$MOUNT" "$X"; chmod 0700 "$X"
  as_pg test -x "$MOUNT" -a -w "$MOUNT" || { echo "$OS_USER cannot reach $MOUNT: a parent directory is not traversable by $OS_USER." >&2; exit ${EXIT.notTraversable}; }
  if ! out=$(as_pg "$BIN/pg_basebackup" -D "$D" -X stream -c fast -w -d "$SOURCE_CONNINFO" 2>&1); then
    printf '%s\n' "$out" >&2
    rm -rf -- "$D"
    classify "$out"
  fi
  as_pg touch "$D/standby.signal"
  rm -f "$D/postmaster.pid" "$D/postmaster.opts"
fi
prepare
start_pg
wait_sql "$REPL_USER"
SUPER=$(superuser_of "$REPL_USER") || exit ${EXIT.sqlFailed}
target=$(source_lsn) || exit $?
deadline=$((SECONDS + CATCHUP))
until [ "$(q "$REPL_USER" "select coalesce(pg_last_wal_replay_lsn() >= '$target'::pg_lsn, false)")" = t ]; do
  if [ $SECONDS -ge $deadline ]; then
    echo "Replayed $(q "$REPL_USER" 'select pg_last_wal_replay_lsn()'), the source is at $target." >&2
    exit ${EXIT.catchUpTimeout}
  fi
  sleep 0.2
done
q "$SUPER" CHECKPOINT >/dev/null || exit ${EXIT.sqlFailed}
write_meta "$SUPER" 'pg_last_wal_replay_lsn()' 'pg_last_xact_replay_timestamp()'
`;

// The templates' placeholders, once the script knows the password file and the socket directory.
const RESOLVE = String.raw`
SOURCE_CONNINFO=${'${SOURCE_CONNINFO_T//@PASSFILE@/$PF}'}
BLOCK=${'${BLOCK_T//@PASSFILE@/$PF}'}
BLOCK=${'${BLOCK//@SOCKDIR@/$SOCK}'}
`;

type StagedArgs = { stagedSource: StagedSource<LinkedSource>; repository: Repository; sourceConfig: SourceConfig };

function context(stagedSource: StagedSource<LinkedSource> | UnmountedStagedSource<LinkedSource>): FailureContext {
  return {
    what: `the staging standby of dSource ${stagedSource.guid}`,
    host: stagedSource.stagedConnection.environment.name,
    port: stagedSource.parameters.stagingPort,
  };
}

/**
 * Runs a staging script with the password-file helpers. The password only ever travels as PGPASS_LINE, into the
 * password file; SOURCE_CONNINFO and BLOCK name that file, whose path (under the OS user's home) is resolved on the host.
 */
async function stagingBash(
  { stagedSource, repository, sourceConfig }: StagedArgs,
  script: string,
  extra: Record<string, string> = {},
): Promise<string> {
  const p = stagedSource.parameters;
  const guid = stagedSource.guid.replace(/[^A-Za-z0-9_-]/g, '_');
  const mountPath = stagedSource.mount.mountPath;
  const sourceInfo = conninfo({
    host: p.sourceHost ?? stagedSource.sourceConnection.environment.host.hostname,
    port: p.sourcePort ?? sourceConfig.port ?? 5432,
    user: p.replicationUser,
    passfile: '@PASSFILE@',
    connect_timeout: 10,
    application_name: 'dvx_staging',
  });
  const block = configBlock({
    port: p.stagingPort,
    listenAddresses: '',
    socketDir: '@SOCKDIR@',
    mountPath,
    // The staging binaries' version is checked against the data files on the host (prepare).
    majorVersion: majorVersion(repository.version),
    clusterName: `dvx-staging-${guid}`.slice(0, 60),
    primaryConninfo: sourceInfo,
  });
  const variables = {
    OS_USER: p.osUser ?? DEFAULT_OS_USER,
    BIN: p.stagingBinDir ?? repository.binDir,
    MOUNT: mountPath,
    PORT: String(p.stagingPort),
    TIMEOUT: '300',
    GUID: guid,
    REPL_USER: p.replicationUser,
    PGPASS_LINE: pgpassLine(p.replicationUser, p.password),
    STRIP: MANAGED_KEYS_PATTERN,
    SOURCE_CONNINFO_T: sourceInfo,
    BLOCK_T: block,
    ...extra,
  };
  return pgBash(stagedSource.stagedConnection, `${PASSFILE}\n${RESOLVE}\n${script}`, variables, context(stagedSource));
}

export const linked: StagedLinkedOperations<Definitions> = {
  async mountSpecification({ stagedSource }) {
    const osUser = stagedSource.parameters.osUser ?? DEFAULT_OS_USER;
    const ownership = await osUserIds(stagedSource.stagedConnection, osUser, context(stagedSource));
    return {
      mounts: [
        { remoteEnvironment: stagedSource.stagedConnection.environment, mountPath: stagedSource.parameters.mountPath },
      ],
      ownershipSpecification: ownership,
    };
  },
  async startStaging(args) {
    await stagingBash(args, START_STAGING);
  },
  async stopStaging(args) {
    await stagingBash(args, STOP_STAGING);
  },
  async status(args) {
    return statusOf(await stagingBash(args, STATUS));
  },
  async preSnapshot({ snapshotParameters, ...args }) {
    const catchUp = args.stagedSource.parameters.catchUpTimeoutSeconds ?? 600;
    await stagingBash(args, PRE_SNAPSHOT, { RESYNC: snapshotParameters?.resync ? '1' : '', CATCHUP: String(catchUp) });
  },
  async postSnapshot({ snapshotParameters: _ignored, ...args }) {
    return snapshotMetadata(await stagingBash(args, POST_SNAPSHOT));
  },
};
