import { CommandFailedError, DvxError, HostError, PluginError } from '../errors/index.js';
import { runBash, runExpect, runSync, type HostConnection } from '../hosts/index.js';
import type { Logger } from '../log/logger.js';
import { redactSecrets } from '../log/redact.js';
import type {
  Credentials,
  LogLevel,
  RunBashOptions,
  RunBashResponse,
  RunExpectOptions,
  RunSyncRequest,
  RunSyncResponse,
} from './sdk/platform-libs.js';
import type { RemoteConnection } from './sdk/platform-objects.js';

export type {
  Credentials,
  LogLevel,
  RunBashOptions,
  RunExpectOptions,
  RunSyncRequest,
  RunSyncResponse,
} from './sdk/platform-libs.js';

/** A command's result, as plugins get it. */
export type CommandResult = RunBashResponse;

/**
 * The engine side of the SDK's platform libraries, served to the plugin's child process by the invoker. Errors are
 * DvxErrors (HOST_UNREACHABLE, HOST_COMMAND_FAILED, ...): the plugin gets them as thrown errors with the same code.
 */
export interface PlatformServices {
  /** `signal`, with the services' own: aborting kills the command on the host (its whole process group). */
  runBash(
    connection: RemoteConnection,
    command: string,
    options?: RunBashOptions,
    signal?: AbortSignal,
  ): Promise<CommandResult>;
  runExpect(
    connection: RemoteConnection,
    command: string,
    options?: RunExpectOptions,
    signal?: AbortSignal,
  ): Promise<CommandResult>;
  runSync(request: RunSyncRequest, signal?: AbortSignal): Promise<RunSyncResponse>;
  retrieveCredentials(reference: string): Promise<Credentials>;
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

/** Options of {@link createPlatformServices}. */
export interface PlatformServicesOptions {
  /** The host connection of an environment reference (`RemoteEnvironment.reference`). */
  connect(environmentReference: string): Promise<HostConnection>;
  /**
   * Where `runSync` copies to: an engine path (a direct plugin's dSource) or a directory on a host (a staged plugin's
   * staging mount, copied host to host); absent where the operation may not sync. @defaultValue runSync refused
   */
  syncDestination?: SyncDestination;
  /** Credentials of an environment user reference. @defaultValue plugins may not retrieve credentials */
  credentials?(reference: string): Promise<Credentials>;
  logger: Logger;
  /** Aborting kills running commands and copies. */
  signal?: AbortSignal;
}

/** Where {@link PlatformServices.runSync} copies to. */
export type SyncDestination = string | { environmentReference: string; path: string };

export { CommandFailedError } from '../errors/index.js';

/** Platform services backed by the engine's hosts (ssh2 pool, rsync). */
export function createPlatformServices(options: PlatformServicesOptions): PlatformServices {
  const { logger } = options;
  /** The services' signal and the call's, as one. */
  const withSignal = (call: AbortSignal | undefined): { signal?: AbortSignal } => {
    const signals = [options.signal, call].filter((signal): signal is AbortSignal => signal !== undefined);
    const [only] = signals;
    return signals.length > 1 ? { signal: AbortSignal.any(signals) } : only ? { signal: only } : {};
  };
  const checked = (result: CommandResult, connection: RemoteConnection, check: boolean | undefined): CommandResult => {
    if (check && result.exitCode !== 0) throw new CommandFailedError({ host: connection.environment.name, ...result });
    return result;
  };
  return {
    async runBash(connection, command, commandOptions = {}, signal) {
      const host = await options.connect(connection.environment.reference);
      const result = await runBash(host, command, {
        variables: commandOptions.variables ?? {},
        loginShell: Boolean(commandOptions.useLoginShell),
        ...withSignal(signal),
      });
      return checked(result, connection, commandOptions.checkExitCode);
    },
    async runExpect(connection, command, commandOptions = {}, signal) {
      const host = await options.connect(connection.environment.reference);
      const result = await runExpect(host, command, {
        variables: commandOptions.variables ?? {},
        ...withSignal(signal),
      });
      return checked(result, connection, commandOptions.checkExitCode);
    },
    async runSync(request, signal) {
      if (!options.syncDestination) {
        throw new PluginError({
          code: 'PLUGIN_FAULT',
          message:
            "runSync works only in linked.preSnapshot, while the dSource's storage (direct) or staging mount (staged) is in place.",
          action: 'Copy data with runSync from linked.preSnapshot.',
        });
      }
      if (request.rsyncUser !== undefined && request.rsyncUser !== request.remoteConnection.user.name) {
        throw new HostError({
          code: 'HOST_BAD_INPUT',
          host: request.remoteConnection.environment.name,
          message: `runSync as user ${request.rsyncUser} is not supported: dvx copies as the environment's user, ${request.remoteConnection.user.name}.`,
          action: 'Leave rsyncUser out, or add an environment that logs in as that user.',
        });
      }
      const host = await options.connect(request.remoteConnection.environment.reference);
      const destination = options.syncDestination;
      // A staging mount's root is owned as the mount specification says: the copy fills it and leaves it as it is. A
      // direct dSource's root is part of the dataset and takes the source directory's owner and mode.
      const stats = await runSync({
        from: { connection: host, path: request.sourceDirectory },
        ...(typeof destination === 'string'
          ? { to: { path: destination } }
          : {
              to: { connection: await options.connect(destination.environmentReference), path: destination.path },
              keepDestinationRoot: true,
            }),
        ...(request.excludePaths ? { excludePaths: request.excludePaths } : {}),
        ...(request.symLinksToFollow ? { symLinksToFollow: request.symLinksToFollow } : {}),
        ...(request.inPlace === false ? { inPlace: false } : {}),
        ...withSignal(signal),
        logger,
      });
      return {
        bytesTransferred: stats.transferredFileSize,
        files: stats.files,
        filesTransferred: stats.filesTransferred,
        filesDeleted: stats.filesDeleted,
        inPlace: stats.inPlace,
      };
    },
    async retrieveCredentials(reference) {
      if (!options.credentials)
        throw new DvxError({
          code: 'FORBIDDEN',
          message: 'This engine does not hand credentials to plugins.',
          action: 'Pass what the plugin needs as a password field of its parameters instead.',
        });
      return options.credentials(reference);
    },
    log(level, message, fields = {}) {
      logger[level]({ ...redactSecrets(fields), source: 'plugin' }, message);
    },
  };
}
