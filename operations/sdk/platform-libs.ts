// The platform libraries. They reach the engine through a hook the invoker's child process installs on
// globalThis[Symbol.for('dvx.platform')], so this module works the same when esbuild bundles it into a plugin.
import type { RemoteConnection } from './platform-objects.js';

/** What a command on a host produced. */
export interface RunBashResponse {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runBash}. */
export interface RunBashOptions {
  /** Environment variables of the command: passed as data, never pasted into its text. @defaultValue none */
  variables?: Record<string, string>;
  /** Run in a login shell (sources the profile first). @defaultValue false */
  useLoginShell?: boolean;
  /** Throw a {@link PlatformError} (code HOST_COMMAND_FAILED, with stdout and stderr) on a non-zero exit. @defaultValue false */
  checkExitCode?: boolean;
}

/** Options of {@link runExpect}. */
export interface RunExpectOptions {
  /** Environment variables of the script. @defaultValue none */
  variables?: Record<string, string>;
  /** Throw a {@link PlatformError} on a non-zero exit. @defaultValue false */
  checkExitCode?: boolean;
}

/** What {@link runSync} copies. */
export interface RunSyncRequest {
  /** The source host and user. */
  remoteConnection: RemoteConnection;
  /** Absolute directory on the source host; its contents become the dSource's contents. */
  sourceDirectory: string;
  /** The user rsync runs as on the source; only the connection's own user is supported. @defaultValue the connection's user */
  rsyncUser?: string;
  /** Paths relative to `sourceDirectory` not copied (rsync patterns anchored at the root). @defaultValue none */
  excludePaths?: string[];
  /** Symlinks (relative to `sourceDirectory`) copied as what they point to. @defaultValue none */
  symLinksToFollow?: string[];
  /**
   * Update changed files in place, writing only the blocks that changed, so that the dSource's snapshots keep sharing
   * the blocks that did not (rsync `--inplace --no-whole-file`). A program reading the staging mount during the copy
   * would see files half updated: stop it first, or pass `false` to have each changed file written anew (every
   * snapshot then holds its own copy of every changed file). A destination holding files with several hard links is
   * always copied the second way. @defaultValue true
   */
  inPlace?: boolean;
}

/** What {@link runSync} did. */
export interface RunSyncResponse {
  /** Bytes of file data sent. */
  bytesTransferred?: number;
  /** Files and directories in the source. */
  files?: number;
  filesTransferred?: number;
  filesDeleted?: number;
  /** Whether changed files were updated in place (see {@link RunSyncRequest.inPlace}). */
  inPlace?: boolean;
}

/** Credentials of an environment user. */
export interface Credentials {
  username: string;
  password?: string;
  privateKey?: string;
}

/**
 * An error a platform library call failed with. `code` and `retryable` are the engine's: a plugin that lets it
 * escape fails the operation with that code (so a host outage, HOST_UNREACHABLE, is retried by the engine).
 */
export interface PlatformError extends Error {
  code: string;
  retryable: boolean;
  action?: string;
  output?: string;
  details?: Record<string, unknown>;
  /** For HOST_COMMAND_FAILED (`checkExitCode`): the command's exit code and output. */
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}

const PLATFORM_ERROR = Symbol.for('dvx.platformError');

/** Whether `error` came from a platform library call (see {@link PlatformError}). */
export function isPlatformError(error: unknown): error is PlatformError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[PLATFORM_ERROR] === true;
}

/** The channel to the engine, installed by the invoker's child process before an operation runs. */
export interface PlatformHook {
  /** Id of the operation being run; the same on every retry of the engine step. */
  readonly operationId: string;
  /** The operation being run, e.g. `virtual.configure`. */
  readonly operation: string;
  call(method: 'runBash' | 'runExpect' | 'runSync' | 'retrieveCredentials', params: unknown[]): Promise<unknown>;
  log(level: LogLevel, message: string, fields: Record<string, unknown>): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const HOOK = Symbol.for('dvx.platform');

function hook(library: string): PlatformHook {
  const installed = (globalThis as Record<symbol, PlatformHook | undefined>)[HOOK];
  if (!installed)
    throw new Error(
      `dvx/sdk: ${library} works only inside a plugin operation run by the dvx engine (not at import time, not outside dvx).`,
    );
  return installed;
}

function checkConnection(library: string, remoteConnection: unknown): void {
  const connection = remoteConnection as RemoteConnection | null | undefined;
  if (!connection || typeof connection !== 'object' || typeof connection.environment?.reference !== 'string') {
    throw new TypeError(
      `dvx/sdk: ${library} needs a RemoteConnection the plugin was given (such as virtualSource.connection); got ${JSON.stringify(remoteConnection)}.`,
    );
  }
}

function checkVariables(library: string, variables: unknown): void {
  if (variables === undefined) return;
  if (!variables || typeof variables !== 'object' || Array.isArray(variables))
    throw new TypeError(`dvx/sdk: ${library} variables must be an object of strings.`);
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value !== 'string')
      throw new TypeError(`dvx/sdk: ${library} variable ${name} must be a string, not ${typeof value}.`);
  }
}

/**
 * Runs a bash command on a host as the connection's user, from that user's home directory. `variables` become
 * environment variables, never text in the command, so values with quotes, `$(...)` or newlines stay data.
 */
export async function runBash(
  remoteConnection: RemoteConnection,
  command: string,
  options: RunBashOptions = {},
): Promise<RunBashResponse> {
  const platform = hook('runBash');
  checkConnection('runBash', remoteConnection);
  if (typeof command !== 'string') throw new TypeError('dvx/sdk: runBash command must be a string.');
  checkVariables('runBash', options.variables);
  return (await platform.call('runBash', [remoteConnection, command, options])) as RunBashResponse;
}

/** Runs an expect script on a host (where expect is installed). */
export async function runExpect(
  remoteConnection: RemoteConnection,
  command: string,
  options: RunExpectOptions = {},
): Promise<RunBashResponse> {
  const platform = hook('runExpect');
  checkConnection('runExpect', remoteConnection);
  if (typeof command !== 'string') throw new TypeError('dvx/sdk: runExpect command must be a string.');
  checkVariables('runExpect', options.variables);
  return (await platform.call('runExpect', [remoteConnection, command, options])) as RunBashResponse;
}

/**
 * Copies a directory of a host into the dSource being synced, with rsync; the destination mirrors the source. Only in
 * `linked.preSnapshot`, where the engine picks the destination: a DIRECT plugin's copy lands in the dSource's storage,
 * a STAGED plugin's in its staging mount (rsync runs on the staging host and reaches the source host over SSH with the
 * source environment's key, so the source environment must use key authentication). Elsewhere it fails.
 *
 * What the source directory holds keeps its owners and modes. The staging mount's root itself keeps the owner the
 * mount specification's `ownershipSpecification` gave it and the mode it has (the source directory's own owner and
 * mode are not copied onto it); a DIRECT dSource's root takes the source directory's.
 */
export async function runSync(request: RunSyncRequest): Promise<RunSyncResponse> {
  const platform = hook('runSync');
  checkConnection('runSync', request?.remoteConnection);
  if (typeof request.sourceDirectory !== 'string')
    throw new TypeError('dvx/sdk: runSync sourceDirectory must be a string.');
  if (request.inPlace !== undefined && typeof request.inPlace !== 'boolean')
    throw new TypeError('dvx/sdk: runSync inPlace must be true or false.');
  return (await platform.call('runSync', [request])) as RunSyncResponse;
}

/** Credentials of an environment user, by its reference (`connection.user.reference`); the engine may refuse. */
export async function retrieveCredentials(reference: string): Promise<Credentials> {
  const platform = hook('retrieveCredentials');
  if (typeof reference !== 'string') throw new TypeError('dvx/sdk: retrieveCredentials needs a user reference string.');
  return (await platform.call('retrieveCredentials', [reference])) as Credentials;
}

/** The id of the operation being run: the same on every retry of a step, for plugins that make effects idempotent. */
export function currentOperationId(): string {
  return hook('currentOperationId').operationId;
}

function log(level: LogLevel) {
  return (message: string, fields?: Record<string, unknown>): void => {
    hook('logger').log(level, String(message), fields ?? {});
  };
}

/** The engine's log, with plugin, operation and operation id attached. Secret-looking fields are redacted. */
export const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
