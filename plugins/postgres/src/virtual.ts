// VDBs: a clone of a staging standby's (or another VDB's) files, turned into a primary of its own on the target.
import { UserError, type UnmountedVirtualSource, type VirtualOperations, type VirtualSource } from 'dvx/sdk';
import { configBlock, MANAGED_KEYS_PATTERN } from './config.js';
import {
  DEFAULT_OS_USER,
  majorVersion,
  type Definitions,
  type Repository,
  type SourceConfig,
  type VirtualSourceParameters,
} from './definitions.js';
import {
  EXIT,
  keyValues,
  osUserIds,
  pgBash,
  POST_SNAPSHOT,
  snapshotMetadata,
  STATUS,
  statusOf,
  type FailureContext,
} from './shell.js';

// Configure (provision, refresh) and reconfigure (rewind, enable): own the files, replace the staging settings by the
// VDB's, drop what belonged to the origin's server, start; a clone of a standby is promoted to a primary.
const CONFIGURE = String.raw`
need_bin
if ! running_pid >/dev/null; then
  rm -f "$D/postmaster.pid" "$D/postmaster.opts"
  [ "$FRESH" = 1 ] && { mkdir -p "$X"; : > "$X/postgres.log"; rm -f "$X/snapshot.meta"; }
fi
prepare
start_pg
SUPER=${'${SUPER:-$OS_USER}'}
wait_sql "$SUPER"
if [ "$(q "$SUPER" 'select pg_is_in_recovery()')" = t ]; then
  as_pg "$BIN/pg_ctl" -D "$D" -w -t "$TIMEOUT" promote >&2 || exit ${EXIT.promoteFailed}
  deadline=$((SECONDS + TIMEOUT))
  until [ "$(q "$SUPER" 'select pg_is_in_recovery()')" = f ]; do
    [ $SECONDS -ge $deadline ] && { echo "Still in recovery after $TIMEOUT s." >&2; exit ${EXIT.promoteFailed}; }
    sleep 0.2
  done
fi
echo "superuser=$SUPER"
`;

const START = String.raw`
need_bin
start_pg
wait_sql "${'${SUPER:-$OS_USER}'}"
`;

const STOP = 'stop_pg';

const PRE_SNAPSHOT = String.raw`
SUPER=${'${SUPER:-$OS_USER}'}
if running_pid >/dev/null; then
  q "$SUPER" CHECKPOINT >/dev/null || exit ${EXIT.sqlFailed}
  write_meta "$SUPER" 'pg_current_wal_lsn()' 'null::timestamptz'
else
  # A stopped server's files are consistent as they are.
  { echo "pgVersion=$(cat "$D/PG_VERSION")"; echo "superuser=$SUPER"; echo "timestamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; } > "$X/snapshot.meta"
fi
`;

type Params = VirtualSourceParameters;

function context(virtualSource: VirtualSource<Params> | UnmountedVirtualSource<Params>): FailureContext {
  return {
    what: `VDB ${virtualSource.guid} (port ${virtualSource.parameters.port})`,
    host: virtualSource.connection.environment.name,
    port: virtualSource.parameters.port,
  };
}

function mountPathOf(virtualSource: VirtualSource<Params>): string {
  return virtualSource.mounts[0]?.mountPath ?? virtualSource.parameters.mountPath;
}

function variables(
  virtualSource: VirtualSource<Params>,
  repository: Repository,
  superuser: string | undefined,
  extra: Record<string, string> = {},
): Record<string, string> {
  const p = virtualSource.parameters;
  const mountPath = mountPathOf(virtualSource);
  return {
    OS_USER: p.osUser ?? DEFAULT_OS_USER,
    BIN: repository.binDir,
    MOUNT: mountPath,
    PORT: String(p.port),
    TIMEOUT: String(p.startTimeoutSeconds ?? 300),
    SUPER: superuser ?? '',
    STRIP: MANAGED_KEYS_PATTERN,
    BLOCK: configBlock({
      port: p.port,
      listenAddresses: p.listenAddresses ?? '*',
      socketDir: '@SOCKDIR@',
      mountPath,
      majorVersion: majorVersion(repository.version),
      clusterName: `dvx-vdb-${virtualSource.guid}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60),
    }),
    ...extra,
  };
}

const RESOLVE_SOCKDIR = String.raw`BLOCK=${'${BLOCK//@SOCKDIR@/$SOCK}'}`;

async function vdbBash(
  virtualSource: VirtualSource<Params>,
  repository: Repository,
  superuser: string | undefined,
  script: string,
  extra: Record<string, string> = {},
): Promise<string> {
  return pgBash(
    virtualSource.connection,
    `${RESOLVE_SOCKDIR}\n${script}`,
    variables(virtualSource, repository, superuser, extra),
    context(virtualSource),
  );
}

function checkVersion(
  snapshotVersion: string | undefined,
  repository: Repository,
  virtualSource: VirtualSource<Params>,
): void {
  if (!snapshotVersion) return;
  const target = majorVersion(repository.version);
  if (snapshotVersion !== target) {
    throw new UserError(
      `The snapshot holds PostgreSQL ${snapshotVersion} data, but repository ${repository.name} on ${virtualSource.connection.environment.name} is PostgreSQL ${target}.`,
      `Provision onto a repository of PostgreSQL ${snapshotVersion} (install it on the target and refresh the environment).`,
    );
  }
}

function sourceConfigOf(virtualSource: VirtualSource<Params>, superuser: string): SourceConfig {
  const dataDir = `${mountPathOf(virtualSource)}/data`;
  return {
    name: `${dataDir} (port ${virtualSource.parameters.port})`,
    dataDir,
    port: virtualSource.parameters.port,
    superuser,
  };
}

async function configure(
  virtualSource: VirtualSource<Params>,
  repository: Repository,
  superuser: string | undefined,
  fresh: boolean,
): Promise<SourceConfig> {
  const out = await vdbBash(virtualSource, repository, superuser, CONFIGURE, { FRESH: fresh ? '1' : '' });
  return sourceConfigOf(
    virtualSource,
    keyValues(out).superuser ?? superuser ?? virtualSource.parameters.osUser ?? DEFAULT_OS_USER,
  );
}

export const virtual: VirtualOperations<Definitions> = {
  async mountSpecification({ virtualSource }) {
    const osUser = virtualSource.parameters.osUser ?? DEFAULT_OS_USER;
    const ownership = await osUserIds(virtualSource.connection, osUser, context(virtualSource));
    return {
      mounts: [
        { remoteEnvironment: virtualSource.connection.environment, mountPath: virtualSource.parameters.mountPath },
      ],
      ownershipSpecification: ownership,
    };
  },
  async configure({ virtualSource, snapshot, repository }) {
    checkVersion(snapshot.pgVersion, repository, virtualSource);
    return configure(virtualSource, repository, snapshot.superuser, true);
  },
  async reconfigure({ virtualSource, snapshot, repository, sourceConfig }) {
    checkVersion(snapshot.pgVersion, repository, virtualSource);
    return configure(virtualSource, repository, snapshot.superuser ?? sourceConfig?.superuser, false);
  },
  async unconfigure({ virtualSource, repository, sourceConfig }) {
    await vdbBash(virtualSource, repository, sourceConfig?.superuser, STOP);
  },
  async cleanup({ virtualSource, repository, sourceConfig }) {
    await vdbBash(virtualSource, repository, sourceConfig?.superuser, STOP);
  },
  async start({ virtualSource, repository, sourceConfig }) {
    await vdbBash(virtualSource, repository, sourceConfig?.superuser, START);
  },
  async stop({ virtualSource, repository, sourceConfig }) {
    await vdbBash(virtualSource, repository, sourceConfig?.superuser, STOP);
  },
  async status({ virtualSource, repository, sourceConfig }) {
    return statusOf(await vdbBash(virtualSource, repository, sourceConfig?.superuser, STATUS));
  },
  async preSnapshot({ virtualSource, repository, sourceConfig }) {
    await vdbBash(virtualSource, repository, sourceConfig?.superuser, PRE_SNAPSHOT);
  },
  async postSnapshot({ virtualSource, repository, sourceConfig }) {
    return snapshotMetadata(await vdbBash(virtualSource, repository, sourceConfig?.superuser, POST_SNAPSHOT));
  },
};
