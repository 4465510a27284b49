import type { RemoteConnection } from './platform-objects.js';

/** What a command on a host produced. */
export interface RunBashResponse {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The channel to the engine, installed by the invoker's child process before an operation runs. */
export interface PlatformHook {
  operationId: string;
  call(method: string, params: unknown): Promise<unknown>;
}

const HOOK = Symbol.for('dvx.platform');

function hook(): PlatformHook {
  const installed = (globalThis as Record<symbol, PlatformHook | undefined>)[HOOK];
  if (!installed) throw new Error('dvx platform libraries work only inside a plugin operation run by the dvx engine.');
  return installed;
}

/**
 * Runs a bash command on a host. `variables` become environment variables, never text in the command, so values
 * with quotes or `$(...)` stay data. With `checkExitCode`, a non-zero exit throws an error carrying stdout/stderr.
 */
export async function runBash(remoteConnection: RemoteConnection, command: string, options: { variables?: Record<string, string>; useLoginShell?: boolean; checkExitCode?: boolean } = {}): Promise<RunBashResponse> {
  return (await hook().call('runBash', { remoteConnection, command, options })) as RunBashResponse;
}

/** Runs an expect script on a host (where expect is installed). */
export async function runExpect(remoteConnection: RemoteConnection, command: string, options: { variables?: Record<string, string> } = {}): Promise<RunBashResponse> {
  return (await hook().call('runExpect', { remoteConnection, command, options })) as RunBashResponse;
}

/** Copies a directory of a host into the dSource being synced (direct plugins, in linked.preSnapshot). */
export async function runSync(request: { remoteConnection: RemoteConnection; sourceDirectory: string; rsyncUser?: string; excludePaths?: string[]; symLinksToFollow?: string[] }): Promise<void> {
  await hook().call('runSync', request);
}

/** Credentials of an environment user (by reference). */
export async function retrieveCredentials(reference: string): Promise<{ username: string; password?: string }> {
  return (await hook().call('retrieveCredentials', { reference })) as { username: string; password?: string };
}

/** The id of the operation being run: the same on every retry of a step, for plugins that make effects idempotent. */
export function currentOperationId(): string {
  return hook().operationId;
}

function log(level: 'debug' | 'info' | 'warn' | 'error') {
  return (message: string, fields?: Record<string, unknown>) => {
    void hook().call('log', { level, message, fields: fields ?? {} }).catch(() => undefined);
  };
}

/** The engine's log, with the plugin, operation and run attached (secret-looking fields are redacted). */
export const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
