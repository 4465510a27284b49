import type { LogFn, Logger } from 'pino';

/** Options of {@link repeatLimitHook}. */
export interface RepeatLimitOptions {
  /** Length of the window in which a line may repeat. @defaultValue 10000 */
  windowMs?: number;
  /** Lines with the same message and error written per window; the rest are counted. @defaultValue 3 */
  maxPerWindow?: number;
  /** Lowest pino level limited (30 info, 40 warn, 50 error). @defaultValue 40 */
  minLevel?: number;
}

interface Window {
  written: number;
  suppressed: number;
  logger: Logger;
  level: number;
  msg: string;
  err: string | undefined;
}

/** The message and error message of a log call, which together say whether two lines are "the same". */
function keyOf(args: unknown[]): { msg: string; err: string | undefined } {
  const [first, second] = args;
  if (typeof first === 'string') return { msg: first, err: undefined };
  const msg = typeof second === 'string' ? second : '';
  const rawErr = typeof first === 'object' && first !== null ? (first as { err?: unknown }).err : undefined;
  const err =
    typeof rawErr === 'string'
      ? rawErr
      : rawErr instanceof Error
        ? rawErr.message
        : typeof rawErr === 'object' && rawErr !== null && typeof (rawErr as { message?: unknown }).message === 'string'
          ? (rawErr as { message: string }).message
          : undefined;
  return { msg, err };
}

/**
 * A pino `logMethod` hook that keeps a failing dependency from flooding the log: a warning or error repeated with the
 * same message and error is written `maxPerWindow` times per window; the rest are counted, and one line at the end
 * of the window says how many were left out (`repeated`, `windowMs`). While it keeps repeating, only that count is
 * written, once per window. Other lines pass untouched.
 */
export function repeatLimitHook(options: RepeatLimitOptions = {}) {
  const windowMs = options.windowMs ?? 10_000;
  const maxPerWindow = options.maxPerWindow ?? 3;
  const minLevel = options.minLevel ?? 40;
  const windows = new Map<string, Window>();

  const open = (key: string, window: Window) => {
    windows.set(key, window);
    setTimeout(() => flush(key, window), windowMs).unref();
  };
  const flush = (key: string, window: Window) => {
    windows.delete(key);
    if (window.suppressed === 0) return;
    const fields = { repeated: window.suppressed, windowMs, ...(window.err === undefined ? {} : { err: window.err }) };
    const method = window.level >= 50 ? window.logger.error : window.logger.warn;
    method.call(window.logger, fields, `${window.msg} (repeated)`);
    // Still repeating: from now on only the count, once per window, until a window passes without the line.
    open(key, { ...window, written: maxPerWindow, suppressed: 0 });
  };

  return function logMethod(this: Logger, args: Parameters<LogFn>, method: LogFn, level: number): void {
    if (level < minLevel) {
      method.apply(this, args);
      return;
    }
    const { msg, err } = keyOf(args);
    if (msg.endsWith(' (repeated)')) {
      method.apply(this, args);
      return;
    }
    const key = `${level}\u0000${msg}\u0000${err ?? ''}`;
    let window = windows.get(key);
    if (!window) {
      window = { written: 0, suppressed: 0, logger: this, level, msg, err };
      open(key, window);
    }
    if (window.written < maxPerWindow) {
      window.written += 1;
      method.apply(this, args);
    } else {
      window.suppressed += 1;
    }
  };
}
