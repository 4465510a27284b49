// The messages between the invoker (parent) and the plugin runner (child). Types only: the runner imports nothing.

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
  | { type: 'invoke'; codePath: string; operation: string; args: Record<string, unknown>; operationId: string }
  | { type: 'reply'; id: number; value?: unknown; error?: Record<string, unknown> };

/** Child to parent. */
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'result'; value: unknown }
  | { type: 'failure'; failure: RunnerFailure }
  | { type: 'call'; id: number; method: PlatformMethod; params: unknown[] }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string; fields: Record<string, unknown> };
