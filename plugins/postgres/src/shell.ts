// The bash every operation runs on a host. Values reach scripts as environment variables (runBash `variables`),
// never pasted into their text. PostgreSQL refuses to run as root, so servers and clients run as the OS user
// (runuser when the login user is root).
import { runBash, UserError, type RemoteConnection } from 'dvx/sdk';
import type { Snapshot } from './definitions.js';

/** Exit codes of the scripts, so that failures become the right UserError. */
export const EXIT = {
  noDataDir: 4,
  noOsUser: 10,
  notTraversable: 11,
  noBinaries: 12,
  portInUse: 20,
  startFailed: 21,
  versionMismatch: 22,
  notReady: 23,
  promoteFailed: 24,
  authFailed: 30,
  unreachable: 31,
  notAllowed: 32,
  basebackupFailed: 33,
  catchUpTimeout: 34,
  sqlFailed: 35,
} as const;

// Common functions. Needs OS_USER, BIN and (for instance functions) MOUNT, PORT, TIMEOUT.
const PRELUDE = String.raw`
set -u
cd /
OS_USER=${'${OS_USER:-postgres}'}
if ! id -u "$OS_USER" >/dev/null 2>&1; then echo "There is no OS user $OS_USER on $(hostname)." >&2; exit ${EXIT.noOsUser}; fi
if [ "$(id -u)" = 0 ]; then as_pg() { runuser -u "$OS_USER" -- "$@"; }
elif [ "$(id -un)" = "$OS_USER" ]; then as_pg() { "$@"; }
else as_pg() { sudo -n -u "$OS_USER" -- "$@"; }; fi
pg_major() { "$1/postgres" --version 2>/dev/null | awk '{ v = $3; split(v, p, "."); if (p[1] + 0 >= 10) print p[1]; else print p[1] "." p[2] }'; }
need_bin() {
  for tool in postgres pg_ctl psql "$@"; do
    [ -x "$BIN/$tool" ] || { echo "$BIN/$tool is missing on $(hostname)." >&2; exit ${EXIT.noBinaries}; }
  done
}
if [ -n "${'${MOUNT:-}'}" ]; then
  D="$MOUNT/data"; X="$MOUNT/dvx"
fi
SOCK=/var/run/postgresql
as_pg test -d "$SOCK" -a -w "$SOCK" 2>/dev/null || SOCK=/tmp
# pid of the server running on this data directory (not one of a clone's origin, whose postmaster.pid came along).
running_pid() {
  [ -f "$D/postmaster.pid" ] || return 1
  local pid; pid=$(head -n 1 "$D/postmaster.pid" 2>/dev/null)
  case "$pid" in ''|*[!0-9]*) return 1 ;; esac
  [ -d "/proc/$pid" ] || return 1
  # pids are reused (pid_max may be 32768): only a process whose cwd is this data directory is its postmaster. The
  # OS user can always read a live postmaster's cwd (root too); a dying process's cwd is unreadable.
  local cwd; cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || as_pg readlink "/proc/$pid/cwd" 2>/dev/null) || return 1
  [ "$cwd" = "$(realpath -m -- "$D")" ] || return 1
  echo "$pid"
}
port_busy() {
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Htln "sport = :$PORT" 2>/dev/null)" ] && return 0
  elif (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
  [ -S "$SOCK/.s.PGSQL.$PORT" ] && [ -f "$SOCK/.s.PGSQL.$PORT.lock" ] && kill -0 "$(head -n 1 "$SOCK/.s.PGSQL.$PORT.lock" 2>/dev/null)" 2>/dev/null && return 0
  return 1
}
# psql on the instance's socket: q ROLE SQL
q() { as_pg "$BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U "$1" -d template1 -c "$2"; }
log_size() { stat -c %s "$X/postgres.log" 2>/dev/null || echo 0; }
start_pg() {
  running_pid >/dev/null && return 0
  rm -f "$D/postmaster.pid"
  if port_busy; then
    echo "Port $PORT on $(hostname) is already in use." >&2
    ss -Htlnp "sport = :$PORT" 2>/dev/null | head -n 3 >&2
    exit ${EXIT.portInUse}
  fi
  local before; before=$(log_size)
  if ! as_pg "$BIN/pg_ctl" -D "$D" -l "$X/postgres.log" -w -t "$TIMEOUT" start >/dev/null 2>&1; then
    local tail; tail=$(tail -c +$((before + 1)) "$X/postgres.log" 2>/dev/null | tail -n 30)
    printf '%s\n' "$tail" >&2
    case "$tail" in
      *"Address already in use"*|*"could not create lock file"*|*"is another postmaster"*) exit ${EXIT.portInUse} ;;
      *"incompatible with server"*) exit ${EXIT.versionMismatch} ;;
    esac
    running_pid >/dev/null && { echo "The server did not become ready within $TIMEOUT s." >&2; exit ${EXIT.notReady}; }
    exit ${EXIT.startFailed}
  fi
}
stop_pg() {
  running_pid >/dev/null || return 0
  as_pg "$BIN/pg_ctl" -D "$D" -m fast -w -t 120 stop >/dev/null 2>&1 && return 0
  as_pg "$BIN/pg_ctl" -D "$D" -m immediate -w -t 60 stop >&2
}
# Owns the data directory, checks versions, writes dvx's pg_hba/pg_ident and its settings in postgresql.auto.conf.
# Needs BLOCK (the settings) and STRIP (the keys to remove first).
prepare() {
  [ -d "$D" ] || { echo "There is no data directory at $D on $(hostname)." >&2; exit ${EXIT.noDataDir}; }
  mkdir -p "$X"
  chown "$OS_USER:" "$MOUNT" "$X"
  chmod 0700 "$X"
  [ "$(stat -c %u "$D")" = "$(id -u "$OS_USER")" ] || chown -R "$OS_USER:" "$D"
  chmod 0700 "$D"
  as_pg test -x "$D" -a -w "$D" || { echo "$OS_USER cannot reach $D: a parent directory of the mount path is not traversable by $OS_USER." >&2; exit ${EXIT.notTraversable}; }
  local have want; have=$(cat "$D/PG_VERSION" 2>/dev/null); want=$(pg_major "$BIN")
  if [ "$have" != "$want" ]; then echo "The data files are PostgreSQL $have; the binaries in $BIN are PostgreSQL $want." >&2; exit ${EXIT.versionMismatch}; fi
  [ -f "$D/postgresql.conf" ] || as_pg touch "$D/postgresql.conf"
  {
    echo "# Written by dvx: its own connections use trust on the socket, which only $OS_USER can reach."
    echo "local all all trust"
    if [ -f "$D/pg_hba.conf" ]; then grep -Ev '^[[:space:]]*(#|$)' "$D/pg_hba.conf"
    else printf 'host all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n'; fi
  } > "$X/pg_hba.conf"
  if [ -f "$D/pg_ident.conf" ]; then cp -- "$D/pg_ident.conf" "$X/pg_ident.conf"; else : > "$X/pg_ident.conf"; fi
  chown "$OS_USER:" "$X/pg_hba.conf" "$X/pg_ident.conf"; chmod 0600 "$X/pg_hba.conf" "$X/pg_ident.conf"
  local A="$D/postgresql.auto.conf"
  [ -f "$A" ] || echo '# Do not edit this file manually!' > "$A"
  sed -i -E "/^[[:space:]]*($STRIP)[[:space:]]*=/d; /^# dvx-postgres/d" "$A"
  { echo '# dvx-postgres: the settings below are managed by dvx'; printf '%s\n' "$BLOCK"; } >> "$A"
  chown "$OS_USER:" "$A"; chmod 0600 "$A"
  touch "$X/managed-by-dvx"
}
# The bootstrap superuser (oid 10), asked as a role known to exist: q_super ROLE
superuser_of() { q "$1" "select rolname from pg_roles where oid = 10"; }
wait_sql() {
  local deadline=$((SECONDS + TIMEOUT)) out
  until out=$(q "$1" 'select 1' 2>&1); do
    if [ $SECONDS -ge $deadline ]; then echo "The server does not answer queries after $TIMEOUT s: $out" >&2; exit ${EXIT.notReady}; fi
    sleep 0.2
  done
}
# Records what postSnapshot reports, at the moment the data is made consistent (just before the storage snapshot).
# write_meta ROLE LSN_EXPRESSION TIMESTAMP_EXPRESSION
write_meta() {
  local row lsn timestamp timeline
  row=$(q "$1" "select $2, coalesce($3, now()), (select timeline_id from pg_control_checkpoint())") || exit ${EXIT.sqlFailed}
  IFS='|' read -r lsn timestamp timeline <<< "$row"
  printf 'lsn=%s\ntimestamp=%s\ntimeline=%s\npgVersion=%s\nsuperuser=%s\n' "$lsn" "$timestamp" "$timeline" "$(cat "$D/PG_VERSION")" "$1" > "$X/snapshot.meta"
}
`;

/** What a failed script means to the user, for one kind of instance. */
export interface FailureContext {
  /** e.g. `the staging standby of dSource 01J...` or `VDB on port 5433`. */
  what: string;
  host: string;
  port?: number;
}

/** Turns a script's failure into a UserError with message and action; the output goes along (never a password). */
function failure(result: { exitCode: number; stdout: string; stderr: string }, context: FailureContext): UserError {
  const output = result.stderr.trim() || result.stdout.trim();
  const first = output.split('\n').find((line) => line.trim()) ?? '';
  const at = `${context.what} on ${context.host}`;
  switch (result.exitCode) {
    case EXIT.noOsUser:
      return new UserError(
        `${first}`,
        'Create the OS user that runs PostgreSQL (usually postgres), or set osUser.',
        output,
      );
    case EXIT.notTraversable:
      return new UserError(
        `The PostgreSQL OS user cannot reach the data of ${at}.`,
        'Choose a mount path whose parent directories the OS user may traverse (mode o+x), e.g. under /var/lib/dvx.',
        output,
      );
    case EXIT.noBinaries:
      return new UserError(
        `PostgreSQL binaries are missing for ${at}: ${first}`,
        'Install PostgreSQL on that host (or set stagingBinDir), then refresh the environment.',
        output,
      );
    case EXIT.portInUse:
      return new UserError(
        `Port ${context.port ?? '?'} is already in use on ${context.host}, so ${context.what} cannot start.`,
        'Choose a free port (parameter port / stagingPort), or stop what listens on it.',
        output,
      );
    case EXIT.versionMismatch:
      return new UserError(
        `PostgreSQL versions do not match for ${at}: ${first}`,
        'Use a repository (PostgreSQL installation) of the same major version as the source.',
        output,
      );
    case EXIT.noDataDir:
      return new UserError(
        `There is no data directory for ${at}.`,
        'Resync the dSource (dvx dsource sync --resync), or check the mount path.',
        output,
      );
    case EXIT.startFailed:
      return new UserError(
        `PostgreSQL failed to start for ${at}.`,
        'Read the server log in the mount path (dvx/postgres.log); fix the cause, then retry.',
        output,
      );
    case EXIT.notReady:
      return new UserError(
        `PostgreSQL for ${at} did not become ready in time.`,
        'Raise the timeout parameter, or read the server log in the mount path (dvx/postgres.log).',
        output,
      );
    case EXIT.promoteFailed:
      return new UserError(
        `Promoting ${at} out of recovery failed.`,
        'Read the server log in the mount path (dvx/postgres.log), then retry the provision.',
        output,
      );
    case EXIT.authFailed:
      return new UserError(
        `The source refused the replication user's password (${at}).`,
        'Check the replication user and password of the dSource, then link again.',
        output,
      );
    case EXIT.unreachable:
      return new UserError(
        `The source PostgreSQL cannot be reached from ${context.host}.`,
        'Check sourceHost and sourcePort, that the source runs, and that it listens on an address the staging host can reach.',
        output,
      );
    case EXIT.notAllowed:
      return new UserError(
        `The source does not allow replication connections for this user from ${context.host}.`,
        'Give the user the REPLICATION attribute and add a pg_hba.conf line `host replication USER STAGING-ADDRESS/32 scram-sha-256` on the source, then reload it.',
        output,
      );
    case EXIT.basebackupFailed:
      return new UserError(
        `pg_basebackup of the source failed (${at}).`,
        'Read the output; fix the source or the staging host, then resync.',
        output,
      );
    case EXIT.catchUpTimeout:
      return new UserError(
        `The staging standby did not catch up with the source in time (${at}).`,
        'Raise catchUpTimeoutSeconds, or resync if the source no longer has the WAL the standby needs.',
        output,
      );
    default:
      return new UserError(
        `A PostgreSQL command failed for ${at} (exit code ${result.exitCode}).`,
        'Read the output; fix the cause, then retry.',
        output,
      );
  }
}

/** Runs PRELUDE + script; a non-zero exit becomes the matching UserError. */
export async function pgBash(
  connection: RemoteConnection,
  script: string,
  variables: Record<string, string>,
  context: FailureContext,
): Promise<string> {
  const result = await runBash(connection, `${PRELUDE}\n${script}`, { variables });
  if (result.exitCode !== 0) throw failure(result, context);
  return result.stdout;
}

/** `key=value` lines of a script's output. */
export function keyValues(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [, key, value] = /^([A-Za-z]+)=(.*)$/.exec(line.trim()) ?? [];
    if (key !== undefined && value !== undefined) values[key] = value;
  }
  return values;
}

/** uid and gid of the OS user on a host, for the mount's ownership specification. */
export async function osUserIds(
  connection: RemoteConnection,
  osUser: string,
  context: FailureContext,
): Promise<{ uid: number; gid: number }> {
  const out = await pgBash(
    connection,
    'echo "uid=$(id -u "$OS_USER")"; echo "gid=$(id -g "$OS_USER")"',
    { OS_USER: osUser, BIN: '/' },
    context,
  );
  const values = keyValues(out);
  return { uid: Number(values.uid), gid: Number(values.gid) };
}

/** Whether the instance's server runs (staging standby or VDB): `status=ACTIVE` or `status=INACTIVE`. */
export const STATUS = String.raw`if running_pid >/dev/null; then echo status=ACTIVE; else echo status=INACTIVE; fi`;

/** The snapshot metadata preSnapshot recorded. */
export const POST_SNAPSHOT = String.raw`cat "$X/snapshot.meta"`;

/** The status a STATUS script printed. */
export function statusOf(stdout: string): 'ACTIVE' | 'INACTIVE' {
  return keyValues(stdout).status === 'ACTIVE' ? 'ACTIVE' : 'INACTIVE';
}

/** The snapshot metadata written by write_meta. */
export function snapshotMetadata(text: string): Snapshot {
  const values = keyValues(text);
  const snapshot: Snapshot = {};
  if (values.lsn) snapshot.lsn = values.lsn;
  if (values.timestamp) {
    const time = new Date(values.timestamp.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
    snapshot.timestamp = Number.isNaN(time.getTime()) ? values.timestamp : time.toISOString();
  }
  if (values.pgVersion) snapshot.pgVersion = values.pgVersion;
  if (values.timeline && /^\d+$/.test(values.timeline)) snapshot.timeline = Number(values.timeline);
  if (values.superuser) snapshot.superuser = values.superuser;
  return snapshot;
}
