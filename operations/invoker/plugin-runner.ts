// A runner process: runs one plugin operation. Started ahead of the call (runner-pool.ts) with the path of the plugin's
// bundled code as its argument, it installs the platform hook the SDK talks through
// (globalThis[Symbol.for('dvx.platform')]), imports the code at once, then waits for one operation, runs it and
// reports the result. Its parent (operations/invoker/plugin-process.ts) kills it, and its process group, once the call
// is over: no process runs two operations, so nothing a plugin leaves in memory reaches another call.
// It imports nothing but node: modules, so that it starts fast. ipc-messages.ts describes the protocol.
import { pathToFileURL } from 'node:url';
import type { ChildMessage, ParentMessage, PlatformMethod, RunnerFailure } from './ipc-messages.js';

const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
let nextId = 1;
let reported = false;

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** Sends the operation's outcome once; later outcomes (a stray rejection after the result) are dropped. */
function report(message: Extract<ChildMessage, { type: 'result' | 'failure' }>): void {
  if (reported) return;
  reported = true;
  send(message);
}

const PLATFORM_ERROR = Symbol.for('dvx.platformError');

/** The engine's error for a failed platform call; keeps its code and retryable flag (see the SDK's PlatformError). */
class PlatformCallError extends Error {
  constructor(readonly serialized: Record<string, unknown>) {
    super(typeof serialized.message === 'string' ? serialized.message : 'Platform call failed');
    this.name = 'PlatformError';
    const { stdout, stderr, exitCode, ...error } = serialized;
    Object.assign(this, {
      code: error.code,
      retryable: error.retryable,
      action: error.action,
      output: error.output,
      details: error.details,
    });
    if (exitCode !== undefined) Object.assign(this, { exitCode, stdout, stderr });
    this.serialized = error;
    Object.defineProperty(this, PLATFORM_ERROR, { value: true });
  }
}

/** The operation this process runs, once the invoker has sent it. */
let current: { operation: string; operationId: string } | undefined;
let startOperation: () => void = () => undefined;
/** Platform calls made before the operation arrived (at import time) wait for it: they are part of it. */
const operationStarted = new Promise<void>((resolve) => (startOperation = resolve));

function installHook(): void {
  const hook = {
    get operationId() {
      return current?.operationId ?? '';
    },
    get operation() {
      return current?.operation ?? '';
    },
    async call(method: PlatformMethod, params: unknown[]) {
      await operationStarted;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        send({ type: 'call', id, method, params });
      });
    },
    log(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>) {
      try {
        send({ type: 'log', level, message, fields });
      } catch {
        send({ type: 'log', level, message, fields: { unserializableFields: true } });
      }
    },
  };
  Object.defineProperty(globalThis, Symbol.for('dvx.platform'), {
    value: Object.freeze(hook),
    configurable: false,
    enumerable: false,
  });
}

function describe(error: unknown): RunnerFailure {
  if (error instanceof PlatformCallError) return { kind: 'platform', error: error.serialized };
  const value = error as {
    name?: unknown;
    message?: unknown;
    action?: unknown;
    output?: unknown;
    stack?: unknown;
  } | null;
  if (value && typeof value === 'object' && value.name === 'UserError') {
    return {
      kind: 'user',
      message: String(value.message),
      ...(typeof value.action === 'string' ? { action: value.action } : {}),
      ...(typeof value.output === 'string' ? { output: value.output } : {}),
    };
  }
  if (value && typeof value === 'object') {
    return {
      kind: 'fault',
      message: String(value.message ?? error),
      ...(typeof value.name === 'string' ? { name: value.name } : {}),
      ...(typeof value.stack === 'string' ? { stack: value.stack } : {}),
    };
  }
  return { kind: 'fault', message: String(error) };
}

type Loaded = { plugin: Record<string, Record<string, unknown> | undefined> | undefined } | { error: unknown };

/** The plugin's code, imported as soon as the process starts. */
function load(codePath: string | undefined): Promise<Loaded> {
  if (!codePath)
    return Promise.resolve({ error: new Error('The runner was started without the path of the plugin code.') });
  return import(pathToFileURL(codePath).href).then(
    (module: { default?: Record<string, Record<string, unknown> | undefined> }) => ({ plugin: module.default }),
    (error: unknown) => ({ error }),
  );
}

async function invoke(message: Extract<ParentMessage, { type: 'invoke' }>, loading: Promise<Loaded>): Promise<void> {
  if (current) return;
  current = { operation: message.operation, operationId: message.operationId };
  send({ type: 'started' });
  startOperation();
  const loaded = await loading;
  if ('error' in loaded) {
    report({ type: 'failure', failure: describe(loaded.error) });
    return;
  }
  const plugin = loaded.plugin;
  if (!plugin || typeof plugin !== 'object' || !(plugin as Record<symbol, unknown>)[Symbol.for('dvx.plugin')]) {
    report({
      type: 'failure',
      failure: {
        kind: 'notPlugin',
        message: "The plugin's code does not export the value of definePlugin(...) as its default export.",
      },
    });
    return;
  }
  const [group, name] = message.operation.split('.') as [string, string];
  const operation = plugin[group]?.[name];
  if (typeof operation !== 'function') {
    report({
      type: 'failure',
      failure: { kind: 'missing', message: `The plugin's code has no ${message.operation}.` },
    });
    return;
  }
  let value: unknown;
  try {
    value = await (operation as (args: unknown) => unknown).call(plugin[group], message.args);
  } catch (error) {
    report({ type: 'failure', failure: describe(error) });
    return;
  }
  try {
    // What crosses the channel is JSON: refuse what JSON cannot carry (a BigInt, a cycle) here, with its reason.
    JSON.stringify(value ?? null);
  } catch (error) {
    report({ type: 'failure', failure: { kind: 'unserializable', message: (error as Error).message } });
    return;
  }
  report({ type: 'result', value: value === undefined ? null : value });
}

installHook();
const loading = load(process.argv[2]);
process.on('message', (message: ParentMessage) => {
  if (message.type === 'invoke') {
    void invoke(message, loading);
  } else if (message.type === 'reply') {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (!waiter) return;
    if (message.error) waiter.reject(new PlatformCallError(message.error));
    else waiter.resolve(message.value);
  }
});
// A plugin's stray rejection or exception fails the operation as a fault instead of killing the process silently.
process.on('uncaughtException', (error) => report({ type: 'failure', failure: describe(error) }));
process.on('unhandledRejection', (error) => report({ type: 'failure', failure: describe(error) }));
// The engine went away: nobody will read the result.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
void loading.then(() => send({ type: 'loaded' }));
