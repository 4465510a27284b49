// dirtree: a directory tree as a dataset, ingested the vSDK tutorial's way. On each sync the staging host rsyncs the
// source host's directory into the staging mount (dvx's runSync runs rsync on the staging host, over SSH to the source
// host); the engine snapshots the staging storage; each VDB is a writable clone mounted at its mount location.
import { definePlugin, logger, runBash, runSync, UserError, type RemoteConnection } from 'dvx/sdk';

interface Repository {
  name: string;
  rsyncPath: string;
  rsyncVersion?: string;
}
interface SourceConfig {
  name: string;
  path: string;
}
interface LinkedSource {
  mountLocation: string;
  excludePaths?: string[];
  followSymlinks?: string[];
}
interface VirtualSource {
  mountLocation: string;
}
interface Snapshot {
  files?: number;
  bytes?: number;
  takenAt?: string;
}
interface SnapshotParameters {
  resync?: boolean;
}

/** Files and bytes under a directory of a host. */
async function treeSize(connection: RemoteConnection, directory: string): Promise<Snapshot> {
  const { stdout } = await runBash(
    connection,
    'printf "%s %s\\n" "$(find "$DIR" -type f | wc -l)" "$(du -sb "$DIR" | cut -f1)"',
    { variables: { DIR: directory }, checkExitCode: true },
  );
  const [files, bytes] = stdout.trim().split(' ').map(Number);
  return { files: files ?? 0, bytes: bytes ?? 0, takenAt: new Date().toISOString() };
}

async function requireDirectory(connection: RemoteConnection, directory: string): Promise<void> {
  const { exitCode } = await runBash(connection, 'test -d "$DIR" && test -r "$DIR" && test -x "$DIR"', {
    variables: { DIR: directory },
  });
  if (exitCode !== 0) {
    throw new UserError(
      `${directory} is not a readable directory on ${connection.environment.name}.`,
      `Check the source config's path, or give ${connection.user.name} read access to it.`,
      `test -d/-r/-x ${directory} failed with exit code ${exitCode}`,
    );
  }
}

const mountAt = (connection: RemoteConnection, mountPath: string) => ({
  mounts: [{ remoteEnvironment: connection.environment, mountPath }],
});

export default definePlugin<{
  repository: Repository;
  sourceConfig: SourceConfig;
  linkedSource: LinkedSource;
  virtualSource: VirtualSource;
  snapshot: Snapshot;
  snapshotParameters: SnapshotParameters;
}>({
  discovery: {
    // The repository is the rsync that copies the files; a host without rsync has none.
    repository: async ({ sourceConnection }) => {
      const { exitCode, stdout } = await runBash(
        sourceConnection,
        'path=$(command -v rsync) && printf "%s\\n%s\\n" "$path" "$(rsync --version | head -n 1)"',
      );
      if (exitCode !== 0) {
        logger.warn(
          `rsync is not installed on ${sourceConnection.environment.name}; dirtree finds no repository there.`,
        );
        return [];
      }
      const [rsyncPath = 'rsync', banner = ''] = stdout.trim().split('\n');
      const rsyncVersion = /version\s+(\S+)/.exec(banner)?.[1] ?? 'unknown';
      return [{ name: `rsync ${rsyncVersion} on ${sourceConnection.environment.name}`, rsyncPath, rsyncVersion }];
    },
    // Directory trees are not discovered: add one with `dvx sourceconfig add` (its path and a name).
    sourceConfig: async () => [],
  },
  linked: {
    mountSpecification: async ({ stagedSource }) =>
      mountAt(stagedSource.stagedConnection, stagedSource.parameters.mountLocation),
    preSnapshot: async ({ stagedSource, sourceConfig, snapshotParameters }) => {
      await requireDirectory(stagedSource.sourceConnection, sourceConfig.path);
      if (snapshotParameters?.resync) {
        await runBash(stagedSource.stagedConnection, 'find "$DIR" -mindepth 1 -delete', {
          variables: { DIR: stagedSource.mount.mountPath },
          checkExitCode: true,
        });
      }
      const { excludePaths = [], followSymlinks = [] } = stagedSource.parameters;
      const copied = await runSync({
        remoteConnection: stagedSource.sourceConnection,
        sourceDirectory: sourceConfig.path,
        excludePaths,
        symLinksToFollow: followSymlinks,
      });
      logger.info(
        `copied ${copied.filesTransferred ?? 0} changed file(s), ${copied.bytesTransferred ?? 0} bytes, deleted ${copied.filesDeleted ?? 0}`,
      );
    },
    postSnapshot: async ({ stagedSource }) => treeSize(stagedSource.stagedConnection, stagedSource.mount.mountPath),
    status: async ({ stagedSource, sourceConfig }) => {
      const { exitCode } = await runBash(stagedSource.sourceConnection, 'test -d "$DIR" && test -r "$DIR"', {
        variables: { DIR: sourceConfig.path },
      });
      return exitCode === 0 ? 'ACTIVE' : 'INACTIVE';
    },
    sourceSize: async ({ stagedSource, sourceConfig }) =>
      (await treeSize(stagedSource.sourceConnection, sourceConfig.path)).bytes ?? 0,
  },
  virtual: {
    mountSpecification: async ({ virtualSource }) =>
      mountAt(virtualSource.connection, virtualSource.parameters.mountLocation),
    // A directory needs nothing to run: the VDB is its mounted files.
    configure: async ({ virtualSource }) => ({
      name: virtualSource.parameters.mountLocation.split('/').filter(Boolean).at(-1) ?? virtualSource.guid,
      path: virtualSource.parameters.mountLocation,
    }),
    reconfigure: async ({ virtualSource }) => ({
      name: virtualSource.parameters.mountLocation.split('/').filter(Boolean).at(-1) ?? virtualSource.guid,
      path: virtualSource.parameters.mountLocation,
    }),
    postSnapshot: async ({ virtualSource }) =>
      treeSize(virtualSource.connection, virtualSource.parameters.mountLocation),
    status: async ({ virtualSource }) => {
      const { exitCode } = await runBash(virtualSource.connection, 'mountpoint -q "$DIR"', {
        variables: { DIR: virtualSource.parameters.mountLocation },
      });
      return exitCode === 0 ? 'ACTIVE' : 'INACTIVE';
    },
    sourceSize: async ({ virtualSource }) =>
      (await treeSize(virtualSource.connection, virtualSource.parameters.mountLocation)).bytes ?? 0,
  },
});
