import { DvxError, PluginError, startDeadline, toDvxError, type Deadline } from '../../errors/index.js';
import type { Logger } from '../../log/logger.js';
import type { OperationName, PluginArtifact } from '../plugin-artifact.js';
import type { PlatformServices, RunBashOptions, RunExpectOptions, RunSyncRequest } from '../platform-services.js';
import type { RemoteConnection } from '../sdk/platform-objects.js';
import type { ChildMessage, ParentMessage, PlatformMethod, RunnerFailure } from './ipc-messages.js';
import { checkOutput } from './operation-contract.js';
import type { RunnerProcess } from './runner-process.js';
import type { SecretScrubber } from './secret-scrubber.js';

/** What one plugin process runs, and with what. */
export interface PluginProcessOptions {
  artifact: PluginArtifact;
  operation: OperationName;
  /** The operation's arguments, already checked against the plugin's schemas. */
  args: Record<string, unknown>;
  operationId: string;
  /** The runner process to run it in: a warm one from the pool, or one started for this call. */
  runner: () => Promise<RunnerProcess>;
  /**
   * A runner started for this call, should the first one exit before it took the operation up (a warm runner that
   * died while idle, its exit not yet seen when it was handed over). @defaultValue none: that is PLUGIN_CRASHED
   */
  fallback?: (() => Promise<RunnerProcess>) | undefined;
  services: PlatformServices;
  /** The environments and users the arguments name: the only ones the plugin may reach. */
  references: ReadonlySet<string>;
  scrub: SecretScrubber;
  /** Kill the process and fail with PLUGIN_TIMEOUT after this long. */
  timeoutMs: number;
  /** Aborting kills the process and fails with RUN_CANCELLED (or the signal's DvxError reason). */
  signal?: AbortSignal | undefined;
  logger: Logger;
}

type Outcome = { error: DvxError } | { value: unknown };

/** Messages and stacks a plugin reports are cut to this (the vSDK's limit). */
const MAX_TEXT = 128 * 1024;
/** How long to wait for a killed plugin process to be reaped before giving up on it. */
const REAP_WAIT_MS = 5_000;
const PLATFORM_METHODS: ReadonlySet<string> = new Set<PlatformMethod>([
  'runBash',
  'runExpect',
  'runSync',
  'retrieveCredentials',
]);

const cut = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}[...]` : text);

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
      return DvxError.fromJSON({
        ...error.toJSON(),
        details: { ...error.details, operation, raisedIn: 'platform call' },
      });
    }
    case 'missing':
    case 'notPlugin':
      return new PluginError({
        code: 'PLUGIN_OPERATION_MISSING',
        message: failure.message,
        action: 'Rebuild the plugin with `dvx plugin build` and upload it again.',
        details: { operation },
      });
    case 'unserializable':
      return new PluginError({
        code: 'PLUGIN_INVALID_OUTPUT',
        message: `${operation} returned a value that is not JSON: ${failure.message}.`,
        action: 'Return plain JSON data (no BigInt, no cycles).',
        details: { operation },
      });
    default: {
      const stack = failure.stack === undefined ? undefined : cut(scrub.text(failure.stack));
      return new PluginError({
        code: 'PLUGIN_FAULT',
        message: `${operation} threw ${failure.name ?? 'an error'}: ${cut(scrub.text(failure.message))}`,
        action:
          'This is a bug in the plugin (throw UserError for problems the user should fix); its stack is in the output.',
        ...(stack ? { output: stack } : {}),
        details: { operation, ...(stack ? { stack } : {}) },
      });
    }
  }
}

/** A platform call's parameters, checked: a plugin bug here is its fault, reported to it as a thrown error. */
function checkCall(method: PlatformMethod, call: unknown, references: ReadonlySet<string>): unknown[] {
  const fault = (message: string) => new PluginError({ code: 'PLUGIN_FAULT', message: `${method}: ${message}` });
  if (!Array.isArray(call)) throw fault('bad call');
  const params: unknown[] = call;
  const reference =
    method === 'retrieveCredentials'
      ? params[0]
      : (
          (method === 'runSync' ? (params[0] as { remoteConnection?: unknown })?.remoteConnection : params[0]) as
            { environment?: { reference?: unknown } } | undefined
        )?.environment?.reference;
  if (typeof reference !== 'string')
    throw fault(
      method === 'retrieveCredentials' ? 'needs a user reference.' : 'needs a RemoteConnection the plugin was given.',
    );
  if (!references.has(reference))
    throw fault(`${JSON.stringify(reference)} is not an environment or user this operation was given.`);
  if ((method === 'runBash' || method === 'runExpect') && typeof params[1] !== 'string')
    throw fault('the command must be a string.');
  const options = params[2] as { variables?: unknown } | undefined;
  if ((method === 'runBash' || method === 'runExpect') && options?.variables !== undefined) {
    const variables = options.variables;
    if (
      !variables ||
      typeof variables !== 'object' ||
      Object.values(variables).some((value) => typeof value !== 'string')
    )
      throw fault('variables must be an object of strings.');
  }
  return params;
}

/**
 * One plugin process running one operation: a runner process (its own process group) driven over IPC (the invoke
 * message, platform calls served by the services, log lines, the result or failure), bounded by a timeout and the
 * caller's signal, and killed (the whole group) and reaped before {@link run} settles, whatever happened.
 */
export class PluginProcess {
  readonly #options: PluginProcessOptions;
  #runner: RunnerProcess | undefined;
  /** The fallback runner being started, if it is. */
  #replacing: Promise<RunnerProcess | undefined> | undefined;
  /** Whether the runner has taken the operation up (`started`). */
  #started = false;
  #settled = false;
  #settle: (outcome: Outcome) => void = () => undefined;
  /** Aborted when the operation is over: the host commands it started and did not wait for are killed. */
  readonly #calls = new AbortController();

  constructor(options: PluginProcessOptions) {
    this.#options = options;
  }

  /** Runs the operation to its end: its checked output, or a typed error. Call once. */
  async run(): Promise<unknown> {
    const { operation, timeoutMs, signal, logger } = this.#options;
    const runner = await this.#options.runner();
    const deadline: Deadline = startDeadline({
      signal,
      timeoutMs,
      timeoutError: () =>
        new PluginError({
          code: 'PLUGIN_TIMEOUT',
          message: `${operation} did not finish within ${timeoutMs >= 1_000 ? `${Math.round(timeoutMs / 1_000)} s` : `${timeoutMs} ms`}; its process was killed.`,
          action: 'Find out why the plugin hangs (its log), or raise the plugin timeout.',
          details: { operation, timeoutMs },
        }),
      what: operation,
      details: { operation },
    });
    const outcome = await new Promise<Outcome>((resolve) => {
      this.#settle = resolve;
      const onDeadline = () => this.#finish({ error: toDvxError(deadline.signal.reason) });
      if (deadline.signal.aborted) onDeadline();
      else deadline.signal.addEventListener('abort', onDeadline, { once: true });
      this.#drive(runner, this.#options.fallback);
    });
    deadline.dispose();

    this.#calls.abort(
      'error' in outcome
        ? outcome.error
        : new DvxError({ code: 'RUN_CANCELLED', message: `${operation} returned before this platform call ended.` }),
    );
    await this.#replacing;
    const last = this.#runner ?? runner;
    last.kill();
    // The call is over only when the process is gone (reaped), not merely signalled.
    await Promise.race([last.exited, new Promise((resolve) => setTimeout(resolve, REAP_WAIT_MS).unref())]);
    last.release();
    if ('error' in outcome) {
      logger.debug({ err: outcome.error.toJSON() }, 'plugin operation failed');
      throw outcome.error;
    }
    return outcome.value;
  }

  /** Hands the operation to `runner`; should it exit before taking it up, to a runner from `fallback`. */
  #drive(runner: RunnerProcess, fallback: (() => Promise<RunnerProcess>) | undefined): void {
    const { operation, operationId, args, scrub, logger } = this.#options;
    this.#runner = runner;
    runner.attach({
      message: (message) => {
        if (message.type === 'started') this.#started = true;
        else this.#onMessage(message);
      },
      stdout: (text) => logger.debug({ stdout: scrub.text(text.slice(0, 2_000)) }, 'plugin output'),
      error: (error) =>
        this.#finish({
          error: new PluginError({
            code: 'PLUGIN_CRASHED',
            message: `The plugin process for ${operation} could not run: ${error.message}`,
            details: { operation },
          }),
        }),
      // Messages sent just before the exit are still being delivered; let them win.
      exit: (code, exitSignal) =>
        setImmediate(() => {
          if (this.#settled) return;
          if (this.#started || !fallback) {
            this.#finish({ error: this.#crashed(code, exitSignal) });
            return;
          }
          // It never saw the operation: nothing of it ran, so it runs in a process started for it.
          logger.debug({ pid: runner.pid, exitCode: code, signal: exitSignal }, 'plugin runner gone before the call');
          runner.release();
          this.#replacing = fallback().then(
            (next) => {
              if (this.#settled) next.kill();
              this.#drive(next, undefined);
              return next;
            },
            (error: unknown) => {
              this.#finish({ error: toDvxError(error) });
              return undefined;
            },
          );
        }),
    });
    runner.whenReady(() => this.#send({ type: 'invoke', operation, args, operationId }));
  }

  #finish(outcome: Outcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#settle(outcome);
  }

  #send(message: ParentMessage): void {
    if (!this.#settled) this.#runner?.send(message);
  }

  #onMessage(message: ChildMessage): void {
    if (this.#settled) return;
    const { artifact, operation, references, scrub, services, logger } = this.#options;
    switch (message.type) {
      case 'result':
        try {
          this.#finish({ value: checkOutput(artifact, operation, message.value, references) });
        } catch (error) {
          this.#finish({ error: toDvxError(error) });
        }
        return;
      case 'failure':
        this.#finish({ error: failureToError(operation, message.failure, scrub) });
        return;
      case 'log':
        try {
          services.log(message.level, scrub.text(String(message.message)), scrub.value(message.fields ?? {}));
        } catch (error) {
          logger.warn({ err: toDvxError(error).toJSON() }, 'a plugin log line could not be written');
        }
        return;
      case 'call':
        this.#answerCall(message.id, message.method, message.params);
        return;
      default:
        return;
    }
  }

  #answerCall(id: number, method: PlatformMethod, params: unknown): void {
    const reply = PLATFORM_METHODS.has(method)
      ? this.#serve(method, params)
      : Promise.reject(new PluginError({ code: 'PLUGIN_FAULT', message: `Unknown platform call ${String(method)}.` }));
    void reply.then(
      (value) => this.#send({ type: 'reply', id, value: value ?? null }),
      (error: unknown) => {
        const dvx = toDvxError(error);
        const command = error as { exitCode?: unknown; stdout?: unknown; stderr?: unknown };
        const extra =
          typeof command.exitCode === 'number' && typeof command.stdout === 'string'
            ? { exitCode: command.exitCode, stdout: command.stdout, stderr: command.stderr }
            : {};
        this.#options.logger.debug({ err: dvx.toJSON(), method }, 'platform call failed');
        this.#send({ type: 'reply', id, error: { ...dvx.toJSON(), ...extra } });
      },
    );
  }

  async #serve(method: PlatformMethod, params: unknown): Promise<unknown> {
    const { services, references, scrub } = this.#options;
    const checked = checkCall(method, params, references);
    // checkCall has checked the shapes these casts name.
    const { signal } = this.#calls;
    switch (method) {
      case 'runBash':
        return services.runBash(
          checked[0] as RemoteConnection,
          checked[1] as string,
          (checked[2] ?? {}) as RunBashOptions,
          signal,
        );
      case 'runExpect':
        return services.runExpect(
          checked[0] as RemoteConnection,
          checked[1] as string,
          (checked[2] ?? {}) as RunExpectOptions,
          signal,
        );
      case 'runSync':
        return services.runSync(checked[0] as RunSyncRequest, signal);
      default: {
        const credentials = await services.retrieveCredentials(checked[0] as string);
        scrub.add(credentials);
        return credentials;
      }
    }
  }

  #crashed(code: number | null, signal: NodeJS.Signals | null): PluginError {
    const { operation, scrub } = this.#options;
    return new PluginError({
      code: 'PLUGIN_CRASHED',
      message: `The plugin process exited (${signal ? `signal ${signal}` : `code ${code}`}) before ${operation} answered.`,
      action: 'Look at the output for the cause (process.exit, out of memory, a native crash).',
      ...(this.#runner?.stderr ? { output: scrub.text(this.#runner.stderr) } : {}),
      details: { operation, exitCode: code, signal },
    });
  }
}
