import { fork, type ChildProcess } from 'node:child_process';
import { DvxError, PluginError, toDvxError } from '../../errors/index.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import type { OperationName, PluginArtifact } from '../plugin-artifact.js';
import type { PlatformServices } from '../platform-services.js';
import { cachedCodePath } from './code-cache.js';
import { runnerScript } from './runner-script.js';
import type { ChildMessage, ParentMessage, PlatformMethod, RunnerFailure } from './ipc-messages.js';
import { checkInputs, checkOutput, hasDefault, hasOperation, OPERATION_DEFAULTS } from './operation-contract.js';
import { SecretScrubber } from './secret-scrubber.js';

/** Options of {@link invokePlugin}. */
export interface InvokeOptions {
  artifact: PluginArtifact;
  operation: OperationName;
  /** Named arguments, as the SDK passes them (`virtualSource`, `repository`, ...). */
  args: Record<string, unknown>;
  /** The same on every retry of a step, so that the plugin can make its effects idempotent (`currentOperationId()`). */
  operationId: string;
  /** What the plugin's platform library calls do. */
  services: PlatformServices;
  /** Kill the operation after this long. @defaultValue {@link INVOKE_DEFAULTS}.timeoutMs (10 minutes) */
  timeoutMs?: number;
  /** Aborting kills the plugin process and fails with RUN_CANCELLED (or the signal's DvxError reason). */
  signal?: AbortSignal;
  /** @defaultValue silentLogger */
  logger?: Logger;
  /** Where the plugin's code is cached as a module file. @defaultValue `<os.tmpdir()>/dvx-plugin-cache` */
  cacheDir?: string;
}

export const INVOKE_DEFAULTS = { timeoutMs: 600_000 };

/** Messages and stacks a plugin reports are cut to this (the vSDK's limit). */
const MAX_TEXT = 128 * 1024;
/** How long to wait for a killed plugin process to be reaped before giving up on it. */
const REAP_WAIT_MS = 5_000;
const PLATFORM_METHODS: ReadonlySet<string> = new Set<PlatformMethod>(['runBash', 'runExpect', 'runSync', 'retrieveCredentials']);

/** The child's environment: enough to run node, nothing of the engine's (keys, tokens, Redis URLs). */
function childEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SYSTEMROOT']) if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}

const cut = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}[...]` : text);

/** Every `reference` in the arguments: the environments and users the plugin may reach. */
function referencesIn(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) referencesIn(item, into);
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'reference' && typeof item === 'string') into.add(item);
      else referencesIn(item, into);
    }
  }
  return into;
}

function failureToError(operation: OperationName, failure: RunnerFailure, scrub: SecretScrubber): DvxError {
  switch (failure.kind) {
    case 'user':
      return new PluginError({
        code: 'PLUGIN_USER_ERROR',
        message: cut(scrub.text(failure.message)),
        ...(failure.action !== undefined ? { action: cut(scrub.text(failure.action)) } : {}),
        ...(failure.output !== undefined ? { output: cut(scrub.text(failure.output)) } : {}),
        details: { operation },
      });
    case 'platform': {
      // A platform call's error the plugin let escape keeps its code and retryable flag: a host outage is retried.
      const error = DvxError.fromJSON(failure.error);
      return DvxError.fromJSON({ ...error.toJSON(), details: { ...error.details, operation, raisedIn: 'platform call' } });
    }
    case 'missing':
    case 'notPlugin':
      return new PluginError({ code: 'PLUGIN_OPERATION_MISSING', message: failure.message, action: 'Rebuild the plugin with `dvx plugin build` and upload it again.', details: { operation } });
    case 'unserializable':
      return new PluginError({ code: 'PLUGIN_INVALID_OUTPUT', message: `${operation} returned a value that is not JSON: ${failure.message}.`, action: 'Return plain JSON data (no BigInt, no cycles).', details: { operation } });
    default: {
      const stack = failure.stack === undefined ? undefined : cut(scrub.text(failure.stack));
      return new PluginError({
        code: 'PLUGIN_FAULT',
        message: `${operation} threw ${failure.name ?? 'an error'}: ${cut(scrub.text(failure.message))}`,
        action: 'This is a bug in the plugin (throw UserError for problems the user should fix); its stack is in the output.',
        ...(stack ? { output: stack } : {}),
        details: { operation, ...(stack ? { stack } : {}) },
      });
    }
  }
}

/** A platform call's parameters, checked: a plugin bug here is its fault, reported to it as a thrown error. */
function checkCall(method: PlatformMethod, params: unknown, references: ReadonlySet<string>): unknown[] {
  const fault = (message: string) => new PluginError({ code: 'PLUGIN_FAULT', message: `${method}: ${message}` });
  if (!Array.isArray(params)) throw fault('bad call');
  const reference = method === 'retrieveCredentials' ? params[0] : ((method === 'runSync' ? (params[0] as { remoteConnection?: unknown })?.remoteConnection : params[0]) as { environment?: { reference?: unknown } } | undefined)?.environment?.reference;
  if (typeof reference !== 'string') throw fault(method === 'retrieveCredentials' ? 'needs a user reference.' : 'needs a RemoteConnection the plugin was given.');
  if (!references.has(reference)) throw fault(`${JSON.stringify(reference)} is not an environment or user this operation was given.`);
  if ((method === 'runBash' || method === 'runExpect') && typeof params[1] !== 'string') throw fault('the command must be a string.');
  const options = params[2] as { variables?: unknown } | undefined;
  if ((method === 'runBash' || method === 'runExpect') && options?.variables !== undefined) {
    const variables = options.variables;
    if (!variables || typeof variables !== 'object' || Object.values(variables).some((value) => typeof value !== 'string')) throw fault('variables must be an object of strings.');
  }
  return params;
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/**
 * Runs one plugin operation in a child process: inputs checked against the plugin's schemas, platform library calls
 * served by `services`, the output checked, and a typed error for every way it can fail (PLUGIN_USER_ERROR,
 * PLUGIN_FAULT, PLUGIN_TIMEOUT, PLUGIN_CRASHED, PLUGIN_INVALID_INPUT, PLUGIN_INVALID_OUTPUT, PLUGIN_OPERATION_MISSING,
 * RUN_CANCELLED, or the code of a platform call's error the plugin let escape). A plugin that throws, hangs, exits
 * or returns garbage never takes the engine down, and its process (group) is gone when this settles.
 *
 * An optional operation the plugin does not implement is not run: its default is returned (see OPERATION_DEFAULTS).
 */
export async function invokePlugin(options: InvokeOptions): Promise<unknown> {
  const { artifact, operation, services } = options;
  const logger = (options.logger ?? silentLogger).child({ plugin: artifact.manifest.name, operation, operationId: options.operationId });
  const cancelled = (): DvxError => {
    const reason: unknown = options.signal?.reason;
    return reason instanceof DvxError ? reason : new DvxError({ code: 'RUN_CANCELLED', message: `${operation} was cancelled.`, details: { operation } });
  };
  if (!hasOperation(artifact, operation)) {
    if (hasDefault(operation)) return OPERATION_DEFAULTS[operation];
    throw new PluginError({ code: 'PLUGIN_OPERATION_MISSING', message: `Plugin ${artifact.manifest.name} does not implement ${operation}, which this run needs.`, action: 'Implement it in the plugin, rebuild and upload it again.', details: { operation } });
  }
  const args = checkInputs(artifact, operation, options.args);
  const references = referencesIn(args);
  const scrub = new SecretScrubber(artifact, args);
  const codePath = await cachedCodePath(artifact, options.cacheDir);
  if (options.signal?.aborted) throw cancelled();
  const timeoutMs = options.timeoutMs ?? INVOKE_DEFAULTS.timeoutMs;

  const child = fork(await runnerScript(), [], {
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group, so that whatever it starts is killed with it.
    detached: true,
    env: childEnvironment(),
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-8_000);
  });
  child.stdout?.on('data', (chunk: Buffer) => logger.debug({ stdout: scrub.text(chunk.toString('utf8').slice(0, 2_000)) }, 'plugin output'));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const outcome = await new Promise<{ error: DvxError } | { value: unknown }>((resolve) => {
    let settled = false;
    const finish = (result: { error: DvxError } | { value: unknown }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const timer = setTimeout(() => {
      finish({
        error: new PluginError({
          code: 'PLUGIN_TIMEOUT',
          message: `${operation} did not finish within ${timeoutMs >= 1_000 ? `${Math.round(timeoutMs / 1_000)} s` : `${timeoutMs} ms`}; its process was killed.`,
          action: 'Find out why the plugin hangs (its log), or raise the plugin timeout.',
          details: { operation, timeoutMs },
        }),
      });
    }, timeoutMs);
    const onAbort = () => finish({ error: cancelled() });
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const answer = (message: ParentMessage) => {
      if (!settled && child.connected) child.send(message, () => undefined);
    };
    const serve = async (method: PlatformMethod, params: unknown): Promise<unknown> => {
      const checked = checkCall(method, params, references);
      switch (method) {
        case 'runBash':
          return services.runBash(checked[0] as never, checked[1] as string, (checked[2] ?? {}) as never);
        case 'runExpect':
          return services.runExpect(checked[0] as never, checked[1] as string, (checked[2] ?? {}) as never);
        case 'runSync':
          return services.runSync(checked[0] as never);
        default: {
          const credentials = await services.retrieveCredentials(checked[0] as string);
          scrub.add(credentials);
          return credentials;
        }
      }
    };

    child.on('message', (message: ChildMessage) => {
      if (settled) return;
      switch (message.type) {
        case 'ready':
          answer({ type: 'invoke', codePath, operation, args, operationId: options.operationId });
          return;
        case 'result':
          try {
            finish({ value: checkOutput(artifact, operation, message.value, references) });
          } catch (error) {
            finish({ error: toDvxError(error) });
          }
          return;
        case 'failure':
          finish({ error: failureToError(operation, message.failure, scrub) });
          return;
        case 'log':
          try {
            services.log(message.level, scrub.text(String(message.message)), scrub.value(message.fields ?? {}));
          } catch (error) {
            logger.warn({ err: toDvxError(error).toJSON() }, 'a plugin log line could not be written');
          }
          return;
        case 'call': {
          const method = message.method;
          const reply = PLATFORM_METHODS.has(method)
            ? serve(method, message.params)
            : Promise.reject(new PluginError({ code: 'PLUGIN_FAULT', message: `Unknown platform call ${String(method)}.` }));
          void reply.then(
            (value) => answer({ type: 'reply', id: message.id, value: value ?? null }),
            (error: unknown) => {
              const dvx = toDvxError(error);
              const command = error as { exitCode?: unknown; stdout?: unknown; stderr?: unknown };
              const extra = typeof command.exitCode === 'number' && typeof command.stdout === 'string' ? { exitCode: command.exitCode, stdout: command.stdout, stderr: command.stderr } : {};
              logger.debug({ err: dvx.toJSON(), method }, 'platform call failed');
              answer({ type: 'reply', id: message.id, error: { ...dvx.toJSON(), ...extra } as Record<string, unknown> });
            },
          );
          return;
        }
        default:
          return;
      }
    });
    child.on('error', (error) => finish({ error: new PluginError({ code: 'PLUGIN_CRASHED', message: `The plugin process for ${operation} could not run: ${error.message}`, details: { operation } }) }));
    child.on('exit', (code, signal) => {
      // Messages sent just before the exit are still being delivered; let them win.
      setImmediate(() =>
        finish({
          error: new PluginError({
            code: 'PLUGIN_CRASHED',
            message: `The plugin process exited (${signal ? `signal ${signal}` : `code ${code}`}) before ${operation} answered.`,
            action: 'Look at the output for the cause (process.exit, out of memory, a native crash).',
            ...(stderr ? { output: scrub.text(stderr) } : {}),
            details: { operation, exitCode: code, signal },
          }),
        }),
      );
    });
  });

  killGroup(child);
  // The call is over only when the process is gone (reaped), not merely signalled.
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, REAP_WAIT_MS).unref())]);
  child.stdout?.destroy();
  child.stderr?.destroy();
  if ('error' in outcome) {
    logger.debug({ err: outcome.error.toJSON() }, 'plugin operation failed');
    throw outcome.error;
  }
  return outcome.value;
}
