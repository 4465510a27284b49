import { DvxError } from '../errors/index.js';
import { runBash, runExpect, runSync, type HostConnection } from '../hosts/index.js';
import type { Logger } from '../log/logger.js';
import type { RemoteConnection } from './sdk/platform-objects.js';

/** A command's result, as plugins get it. */
export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The engine side of the SDK's platform libraries, served to the plugin's child process. */
export interface PlatformServices {
  runBash(request: { remoteConnection: RemoteConnection; command: string; options?: { variables?: Record<string, string>; useLoginShell?: boolean; checkExitCode?: boolean } }): Promise<CommandResult>;
  runExpect(request: { remoteConnection: RemoteConnection; command: string; options?: { variables?: Record<string, string> } }): Promise<CommandResult>;
  runSync(request: { remoteConnection: RemoteConnection; sourceDirectory: string; excludePaths?: string[]; symLinksToFollow?: string[] }): Promise<null>;
  retrieveCredentials(request: { reference: string }): Promise<{ username: string; password?: string }>;
  log(request: { level: 'debug' | 'info' | 'warn' | 'error'; message: string; fields?: Record<string, unknown> }): Promise<null>;
}

/** Options of {@link createPlatformServices}. */
export interface PlatformServicesOptions {
  /** The host connection of an environment reference. */
  connect(environmentReference: string): Promise<HostConnection>;
  /** Engine path `runSync` copies into; absent where the operation may not sync. */
  syncDestination?: string;
  /** Credentials of an environment user; absent means plugins may not retrieve any. */
  credentials?(reference: string): Promise<{ username: string; password?: string }>;
  logger: Logger;
  signal?: AbortSignal;
}

/** Platform services backed by the engine's hosts (ssh2 pool, rsync). */
export function createPlatformServices(options: PlatformServicesOptions): PlatformServices {
  const { logger, signal } = options;
  const checked = (result: CommandResult, command: string, host: string, check: boolean | undefined): CommandResult => {
    if (!check || result.exitCode === 0) return result;
    throw new DvxError({
      code: 'HOST_COMMAND_FAILED',
      message: `A command on ${host} exited with status ${result.exitCode}: ${result.stderr.trim().split('\n').at(-1) ?? ''}`,
      output: `${result.stdout}${result.stderr}`,
      details: { host, exitCode: result.exitCode, command: command.slice(0, 200) },
    });
  };
  return {
    async runBash({ remoteConnection, command, options: commandOptions = {} }) {
      const connection = await options.connect(remoteConnection.environment.reference);
      const result = await runBash(connection, command, { variables: commandOptions.variables ?? {}, loginShell: Boolean(commandOptions.useLoginShell), ...(signal ? { signal } : {}) });
      return checked(result, command, remoteConnection.environment.name, commandOptions.checkExitCode);
    },
    async runExpect({ remoteConnection, command, options: commandOptions = {} }) {
      const connection = await options.connect(remoteConnection.environment.reference);
      return runExpect(connection, command, { variables: commandOptions.variables ?? {}, ...(signal ? { signal } : {}) });
    },
    async runSync(request) {
      if (!options.syncDestination) {
        throw new DvxError({ code: 'PLUGIN_FAULT', message: 'runSync works only in linked.preSnapshot of a direct plugin.', action: 'Copy data with runSync from linked.preSnapshot of a DIRECT plugin; staged plugins copy into their staging mount.' });
      }
      const connection = await options.connect(request.remoteConnection.environment.reference);
      const stats = await runSync({
        from: { connection, path: request.sourceDirectory },
        to: { path: options.syncDestination },
        ...(request.excludePaths ? { excludePaths: request.excludePaths } : {}),
        ...(request.symLinksToFollow ? { symLinksToFollow: request.symLinksToFollow } : {}),
        ...(signal ? { signal } : {}),
        logger,
      });
      logger.info({ stats }, 'runSync finished');
      return null;
    },
    async retrieveCredentials({ reference }) {
      if (!options.credentials) throw new DvxError({ code: 'PLUGIN_FAULT', message: 'This engine does not hand credentials to plugins.' });
      return options.credentials(reference);
    },
    async log({ level, message, fields }) {
      logger[level]({ ...fields, source: 'plugin' }, message);
      return null;
    },
  };
}
