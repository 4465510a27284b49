// A small staged plugin for engine tests: ingestion copies a directory of the source host into the staging mount
// (the test hosts share one filesystem, so rsync runs on the staging host reading the source path directly), and a
// VDB parameter makes configure fail with a UserError.
import { definePlugin, runBash, UserError, type RemoteConnection } from 'dvx/sdk';

interface Repository extends Record<string, unknown> {
  name: string;
  root: string;
}
interface SourceConfig extends Record<string, unknown> {
  name: string;
  path: string;
}
interface LinkedSource extends Record<string, unknown> {
  mountLocation: string;
  secret?: string;
}
interface VirtualSource extends Record<string, unknown> {
  mountLocation: string;
  failConfigure?: boolean;
}
interface Snapshot extends Record<string, unknown> {
  files?: number;
  takenAt?: string;
}

async function countFiles(connection: RemoteConnection, path: string): Promise<number> {
  const result = await runBash(connection, 'find "$DIR" -type f | wc -l', {
    variables: { DIR: path },
    checkExitCode: true,
  });
  return Number(result.stdout.trim());
}

export default definePlugin<{
  repository: Repository;
  sourceConfig: SourceConfig;
  linkedSource: LinkedSource;
  virtualSource: VirtualSource;
  snapshot: Snapshot;
  snapshotParameters: { resync?: boolean };
}>({
  discovery: {
    repository: async ({ sourceConnection }) => [{ name: `files on ${sourceConnection.environment.name}`, root: '/' }],
    sourceConfig: async () => [],
  },
  linked: {
    mountSpecification: async ({ stagedSource }) => ({
      mounts: [
        {
          remoteEnvironment: stagedSource.stagedConnection.environment,
          mountPath: stagedSource.parameters.mountLocation,
        },
      ],
    }),
    preSnapshot: async ({ stagedSource, sourceConfig }) => {
      await runBash(stagedSource.stagedConnection, 'rsync -a --delete "$SRC/" "$DST/"', {
        variables: { SRC: sourceConfig.path, DST: stagedSource.mount.mountPath },
        checkExitCode: true,
      });
    },
    postSnapshot: async ({ stagedSource }) => ({
      files: await countFiles(stagedSource.stagedConnection, stagedSource.mount.mountPath),
      takenAt: new Date().toISOString(),
    }),
  },
  virtual: {
    mountSpecification: async ({ virtualSource }) => ({
      mounts: [
        { remoteEnvironment: virtualSource.connection.environment, mountPath: virtualSource.parameters.mountLocation },
      ],
    }),
    configure: async ({ virtualSource }) => {
      if (virtualSource.parameters.failConfigure)
        throw new UserError(
          'The fixture refuses to configure this VDB.',
          'Provision it without failConfigure.',
          'configure: refused by parameter',
        );
      return { name: virtualSource.guid, path: virtualSource.parameters.mountLocation };
    },
    reconfigure: async ({ virtualSource }) => ({
      name: virtualSource.guid,
      path: virtualSource.parameters.mountLocation,
    }),
    postSnapshot: async ({ virtualSource }) => ({
      files: await countFiles(virtualSource.connection, virtualSource.parameters.mountLocation),
      takenAt: new Date().toISOString(),
    }),
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
