import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DvxError, PluginError, toDvxError } from '../../errors/index.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import type { OperationName, PluginArtifact } from '../plugin-artifact.js';
import type { PlatformServices } from '../platform-services.js';
import { cachedCodePath } from './code-cache.js';
import { checkInputs, checkOutput, hasOperation, OPERATION_DEFAULTS } from './operation-contract.js';

/** Options of {@link invokePlugin}. */
export interface InvokeOptions {
  artifact: PluginArtifact;
  operation: OperationName;
  /** Named arguments, as the SDK passes them (`virtualSource`, `repository`, ...). */
  args: Record<string, unknown>;
  /** The same on every retry of a step, so that the plugin can make its effects idempotent. */
  operationId: string;
  services: PlatformServices;
  /** Kill the operation after this long. @defaultValue 600 000 ms */
  timeoutMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
  /** Where the plugin's code is cached as a module file. @defaultValue `<tmpdir>/dvx-plugin-cache` */
  cacheDir?: string;
}

export const INVOKE_DEFAULTS = { timeoutMs: 600_000 };

const runnerPath = fileURLToPath(new URL(`./plugin-runner${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

type Failure =
  | { kind: 'user'; message: string; action?: string; output?: string }
  | { kind: 'fault'; message: string; stack?: string; name?: string }
  | { kind: 'platform'; error: unknown }
  | { kind: 'missing'; message: string };

type ChildMessage = { type: 'ready' } | { type: 'result'; value: unknown } | { type: 'failure'; failure: Failure } | { type: 'call'; id: number; method: keyof PlatformServices; params: never };

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function failureToError(operation: OperationName, failure: Failure): DvxError {
  switch (failure.kind) {
    case 'user':
      return new PluginError({ code: 'PLUGIN_USER_ERROR', message: failure.message, ...(failure.action ? { action: failure.action } : {}), ...(failure.output ? { output: failure.output } : {}), details: { operation } });
    case 'platform':
      // A host outage inside a platform call keeps its code and retryable flag, so the engine retries the step.
      return DvxError.fromJSON(failure.error);
    case 'missing':
      return new PluginError({ code: 'PLUGIN_OPERATION_MISSING', message: failure.message, details: { operation } });
    default:
      return new PluginError({
        code: 'PLUGIN_FAULT',
        message: `${operation} threw ${failure.name ?? 'an error'}: ${failure.message}`,
        action: 'This is a bug in the plugin; its stack is in the run details.',
        ...(failure.stack ? { output: failure.stack } : {}),
        details: { operation, ...(failure.stack ? { stack: failure.stack } : {}) },
      });
  }
}

/**
 * Runs one plugin operation in a child process: inputs checked against the plugin's schemas, platform library calls
 * served by `services`, the output checked, a typed error for every way it can fail. A plugin that throws, hangs,
 * exits or returns garbage never takes the engine down, and its process never outlives the call.
 */
export async function invokePlugin(options: InvokeOptions): Promise<unknown> {
  const { artifact, operation, args } = options;
  const logger = (options.logger ?? silentLogger).child({ plugin: artifact.manifest.name, operation, operationId: options.operationId });
  if (!hasOperation(artifact, operation)) {
    if (Object.hasOwn(OPERATION_DEFAULTS, operation)) return OPERATION_DEFAULTS[operation];
    throw new PluginError({ code: 'PLUGIN_OPERATION_MISSING', message: `Plugin ${artifact.manifest.name} does not implement ${operation}, which this run needs.`, action: 'Implement it in the plugin, rebuild and upload it again.', details: { operation } });
  }
  checkInputs(artifact, operation, args);
  const codePath = await cachedCodePath(artifact, options.cacheDir);
  options.signal?.throwIfAborted();
  const timeoutMs = options.timeoutMs ?? INVOKE_DEFAULTS.timeoutMs;

  const child = fork(runnerPath, [], {
    execArgv: runnerPath.endsWith('.ts') ? ['--import', 'tsx'] : [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-8_000);
  });
  child.stdout?.on('data', (chunk: Buffer) => logger.debug({ stdout: chunk.toString('utf8').slice(0, 2_000) }, 'plugin output'));

  const value = await new Promise<unknown>((resolve, reject) => {
    let settled = false;
    const finish = (error: DvxError | null, result?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      killGroup(child);
      if (error) reject(error);
      else resolve(result);
    };
    const timer = setTimeout(() => finish(new PluginError({ code: 'PLUGIN_TIMEOUT', message: `${operation} did not finish within ${Math.round(timeoutMs / 1000)} s; its process was killed.`, action: 'Find out why the plugin hangs, or raise the plugin timeout.', details: { operation, timeoutMs } })), timeoutMs);
    const onAbort = () => finish(toDvxError(options.signal?.reason ?? new DvxError({ code: 'RUN_CANCELLED', message: `${operation} was cancelled.` })));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        child.send({ type: 'invoke', codePath, operation, args, operationId: options.operationId });
      } else if (message.type === 'result') {
        try {
          checkOutput(artifact, operation, message.value);
          finish(null, message.value);
        } catch (error) {
          finish(toDvxError(error));
        }
      } else if (message.type === 'failure') {
        finish(failureToError(operation, message.failure));
      } else if (message.type === 'call') {
        const service = options.services[message.method] as ((params: never) => Promise<unknown>) | undefined;
        const reply = service
          ? service.call(options.services, message.params).then(
              (result) => ({ type: 'reply', id: message.id, value: result ?? null }),
              (error: unknown) => ({ type: 'reply', id: message.id, error: toDvxError(error).toJSON() }),
            )
          : Promise.resolve({ type: 'reply', id: message.id, error: new DvxError({ code: 'PLUGIN_FAULT', message: `Unknown platform call ${String(message.method)}.` }).toJSON() });
        void reply.then((answer) => {
          if (!settled && child.connected) child.send(answer);
        });
      }
    });
    child.on('error', (error) => finish(new PluginError({ code: 'PLUGIN_CRASHED', message: `The plugin process for ${operation} could not run: ${error.message}`, details: { operation } })));
    child.on('exit', (code, signal) => {
      finish(
        new PluginError({
          code: 'PLUGIN_CRASHED',
          message: `The plugin process exited (${signal ? `signal ${signal}` : `code ${code}`}) before ${operation} answered.`,
          action: 'Look at the output for the cause (process.exit, out of memory, a native crash).',
          ...(stderr ? { output: stderr } : {}),
          details: { operation, exitCode: code, signal },
        }),
      );
    });
  });
  return value;
}
