import { DvxError } from './dvx-error.js';

/**
 * The error that a cancelled signal's `reason` stands for: the reason itself when it is a DvxError already (a step
 * stopped for a known cause), else RUN_CANCELLED saying what was cancelled.
 */
export function cancellationError(reason: unknown, what: string, details?: Record<string, unknown>): DvxError {
  if (reason instanceof DvxError) return reason;
  return new DvxError({
    code: 'RUN_CANCELLED',
    message: `${what} was cancelled.`,
    ...(details ? { details } : {}),
    ...(reason === undefined ? {} : { cause: reason }),
  });
}

/** Options of {@link startDeadline}. */
export interface DeadlineOptions {
  /** The caller's signal. @defaultValue none */
  signal?: AbortSignal | undefined;
  /** Abort after this long. @defaultValue no limit */
  timeoutMs?: number | undefined;
  /** The error of the timeout (HOST_TIMEOUT, PLUGIN_TIMEOUT...). */
  timeoutError(timeoutMs: number): DvxError;
  /** What is cancelled, for the RUN_CANCELLED message ("A command on db1"). */
  what: string;
  /** Details of the RUN_CANCELLED error. @defaultValue none */
  details?: Record<string, unknown>;
}

/** One signal for a caller's signal and a timeout. */
export interface Deadline {
  /** Aborts on either, with the DvxError to throw as its reason. */
  readonly signal: AbortSignal;
  /** Stops the timer and stops listening to the caller's signal. */
  dispose(): void;
}

/**
 * Joins a caller's abort signal and a timeout into one signal whose reason is already the typed error: the timeout's
 * error, or {@link cancellationError} of the caller's reason. Used by every long-running call to the outside (a
 * command on a host, a copy, a plugin process), so that all of them fail the same way.
 */
export function startDeadline(options: DeadlineOptions): Deadline {
  const controller = new AbortController();
  const { timeoutMs, signal: outer } = options;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => controller.abort(options.timeoutError(timeoutMs)), timeoutMs);
  const onAbort = () => controller.abort(cancellationError(outer?.reason, options.what, options.details));
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}
