// The child process that runs one plugin operation. It imports the plugin's bundled code, installs the platform hook
// the SDK talks through, runs the operation and reports the result. Its parent is operations/invoker/invoke-plugin.ts.
import { pathToFileURL } from 'node:url';

interface InvokeMessage {
  type: 'invoke';
  codePath: string;
  operation: string;
  args: Record<string, unknown>;
  operationId: string;
}
interface ReplyMessage {
  type: 'reply';
  id: number;
  value?: unknown;
  error?: { code: string; message: string; retryable: boolean; [key: string]: unknown };
}

const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
let nextId = 1;

function send(message: unknown): void {
  process.send?.(message);
}

/** An error a platform call failed with, keeping the engine's typed error so it survives the round trip. */
class PlatformCallError extends Error {
  constructor(readonly dvx: NonNullable<ReplyMessage['error']>) {
    super(dvx.message);
    this.name = 'PlatformCallError';
    Object.assign(this, { code: dvx.code, retryable: dvx.retryable });
  }
}

function installHook(operationId: string): void {
  (globalThis as Record<symbol, unknown>)[Symbol.for('dvx.platform')] = {
    operationId,
    call(method: string, params: unknown) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        send({ type: 'call', id, method, params });
      });
    },
  };
}

function describe(error: unknown) {
  if (error instanceof PlatformCallError) return { kind: 'platform', error: error.dvx };
  const value = error as { name?: string; message?: string; action?: string; output?: string; stack?: string } | null;
  if (value && value.name === 'UserError') return { kind: 'user', message: String(value.message), action: value.action, output: value.output };
  return { kind: 'fault', message: value?.message ?? String(error), stack: value?.stack, name: value?.name };
}

async function invoke(message: InvokeMessage): Promise<void> {
  installHook(message.operationId);
  try {
    const module = (await import(pathToFileURL(message.codePath).href)) as { default?: Record<string, Record<string, unknown>> };
    const plugin = module.default;
    const [group, name] = message.operation.split('.') as [string, string];
    const operation = plugin?.[group]?.[name];
    if (typeof operation !== 'function') {
      send({ type: 'failure', failure: { kind: 'missing', message: `The plugin's code has no ${message.operation}.` } });
      return;
    }
    const value = await (operation as (args: unknown) => unknown)(message.args);
    send({ type: 'result', value: value === undefined ? null : value });
  } catch (error) {
    send({ type: 'failure', failure: describe(error) });
  }
}

process.on('message', (message: InvokeMessage | ReplyMessage) => {
  if (message.type === 'invoke') {
    void invoke(message);
  } else if (message.type === 'reply') {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (!waiter) return;
    if (message.error) waiter.reject(new PlatformCallError(message.error));
    else waiter.resolve(message.value);
  }
});
send({ type: 'ready' });
