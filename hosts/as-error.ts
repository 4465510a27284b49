/** `value` if it is an Error, else an Error whose cause it is: for rejecting a promise with something caught. */
export function asError(value: unknown, message = 'The operation failed.'): Error {
  return value instanceof Error ? value : new Error(typeof value === 'string' ? value : message, { cause: value });
}

/**
 * The reason `signal` was aborted with, as an Error: `AbortSignal.reason` is typed `any`. The signals that reach
 * hosts/ are aborted by a deadline (a DvxError) or by a plain `abort()` (a DOMException, an Error too), so the reason
 * comes back as it is; anything else is wrapped in an Error whose cause it is.
 */
export function abortReason(signal: AbortSignal): Error {
  return asError(signal.reason, 'The operation was aborted.');
}
