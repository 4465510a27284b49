// dirsync: a directory tree linked directly. There is no staging host: in linked.preSnapshot the plugin asks the
// engine to copy the source directory into the dSource (runSync, rsync over the engine's SSH connection), then the
// engine snapshots it. VDBs are writable clones mounted at their mount location on a target host.
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

/** Files and bytes of a directory tree as the host sees it. */
async function measure(connection: RemoteConnection, directory: string): Promise<Snapshot> {
  const { stdout } = await runBash(
    connection,
    'cd -- "$DIR" && echo "$(find . -type f | wc -l) $(du -sb . | cut -f1)"',
    { variables: { DIR: directory }, checkExitCode: true },
  );
  const [files = 0, bytes = 0] = stdout.trim().split(' ').map(Number);
  return { files, bytes, takenAt: new Date().toISOString() };
}

const vdbName = (mountLocation: string, guid: string) => mountLocation.split('/').filter(Boolean).at(-1) ?? guid;

export default definePlugin<
  {
    repository: Repository;
    sourceConfig: SourceConfig;
    linkedSource: LinkedSource;
    virtualSource: VirtualSource;
    snapshot: Snapshot;
    snapshotParameters: SnapshotParameters;
  },
  'DIRECT'
>({
  discovery: {
    repository: async ({ sourceConnection }) => {
      const found = await runBash(sourceConnection, 'command -v rsync && rsync --version | head -n 1');
      if (found.exitCode !== 0) {
        logger.warn(
          `no rsync on ${sourceConnection.environment.name}: install rsync there to link directories from it`,
        );
        return [];
      }
      const [rsyncPath = 'rsync', banner = ''] = found.stdout.trim().split('\n');
      const rsyncVersion = /version\s+(\S+)/.exec(banner)?.[1] ?? 'unknown';
      return [{ name: `rsync ${rsyncVersion} on ${sourceConnection.environment.name}`, rsyncPath, rsyncVersion }];
    },
    // Directories are added by hand (`dvx sourceconfig add`), as in the vSDK tutorial.
    sourceConfig: async () => [],
  },
  linked: {
    preSnapshot: async ({ directSource, sourceConfig }) => {
      const readable = await runBash(directSource.connection, '[ -d "$DIR" ] && [ -r "$DIR" ]', {
        variables: { DIR: sourceConfig.path },
      });
      if (readable.exitCode !== 0) {
        throw new UserError(
          `${sourceConfig.path} on ${directSource.connection.environment.name} is missing or unreadable.`,
          `Fix the path of source config ${sourceConfig.name}, or the permissions of ${directSource.connection.user.name}.`,
          `exit code ${readable.exitCode}`,
        );
      }
      const stats = await runSync({
        remoteConnection: directSource.connection,
        sourceDirectory: sourceConfig.path,
        excludePaths: directSource.parameters.excludePaths ?? [],
        symLinksToFollow: directSource.parameters.followSymlinks ?? [],
      });
      logger.info(
        `dirsync: ${stats.filesTransferred ?? 0} of ${stats.files ?? 0} file(s) sent (${stats.bytesTransferred ?? 0} bytes), ${stats.filesDeleted ?? 0} deleted`,
      );
    },
    // What was copied is what the source held a moment ago: its size is the snapshot's metadata.
    postSnapshot: async ({ directSource, sourceConfig }) => measure(directSource.connection, sourceConfig.path),
    status: async ({ directSource, sourceConfig }) =>
      (await runBash(directSource.connection, '[ -d "$DIR" ]', { variables: { DIR: sourceConfig.path } })).exitCode ===
      0
        ? 'ACTIVE'
        : 'INACTIVE',
  },
  virtual: {
    mountSpecification: async ({ virtualSource }) => ({
      mounts: [
        { remoteEnvironment: virtualSource.connection.environment, mountPath: virtualSource.parameters.mountLocation },
      ],
    }),
    configure: async ({ virtualSource }) => ({
      name: vdbName(virtualSource.parameters.mountLocation, virtualSource.guid),
      path: virtualSource.parameters.mountLocation,
    }),
    reconfigure: async ({ virtualSource }) => ({
      name: vdbName(virtualSource.parameters.mountLocation, virtualSource.guid),
      path: virtualSource.parameters.mountLocation,
    }),
    postSnapshot: async ({ virtualSource }) =>
      measure(virtualSource.connection, virtualSource.parameters.mountLocation),
    status: async ({ virtualSource }) =>
      (
        await runBash(virtualSource.connection, 'mountpoint -q "$DIR"', {
          variables: { DIR: virtualSource.parameters.mountLocation },
        })
      ).exitCode === 0
        ? 'ACTIVE'
        : 'INACTIVE',
  },
});
