// The messages between the invoker (parent) and a plugin runner (child), whatever its runtime (runner-launcher.ts):
// JSON over the IPC channel. Types only: the runner imports nothing.
//
// A runner is started with the path of the plugin's code. It sends `ready` once it listens, imports the code at once
// and sends `loaded` when the import has settled (a failed import is reported to the operation, not here). It then
// waits for one `invoke`, says it has `started` it (a runner that exits before that ran none of it), runs it
// (platform `call`s answered by `reply`, `log` lines), reports its `result` or `failure` and is killed by the invoker:
// one operation per process.

/** How an operation failed, as the runner reports it. */
export type RunnerFailure =
  | { kind: 'user'; message: string; action?: string; output?: string }
  | { kind: 'fault'; message: string; name?: string; stack?: string }
  /** A platform call's error the plugin let escape: the engine's serialized DvxError. */
  | { kind: 'platform'; error: Record<string, unknown> }
  | { kind: 'notPlugin'; message: string }
  | { kind: 'missing'; message: string }
  | { kind: 'unserializable'; message: string };

export type PlatformMethod = 'runBash' | 'runExpect' | 'runSync' | 'retrieveCredentials';

/** Parent to child. */
export type ParentMessage =
  | { type: 'invoke'; operation: string; args: Record<string, unknown>; operationId: string }
  | { type: 'reply'; id: number; value?: unknown; error?: Record<string, unknown> };

/** Child to parent. */
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'loaded' }
  | { type: 'started' }
  | { type: 'result'; value: unknown }
  | { type: 'failure'; failure: RunnerFailure }
  | { type: 'call'; id: number; method: PlatformMethod; params: unknown[] }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string; fields: Record<string, unknown> };
