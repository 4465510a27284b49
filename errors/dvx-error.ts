import { ERROR_CODES, isErrorCode, type ErrorCode } from './error-code.js';

const BRAND = Symbol.for('dvx.error');

/** Options shared by every dvx error. */
export interface DvxErrorOptions {
  /** Stable code; see {@link ERROR_CODES}. */
  code: ErrorCode;
  /** What went wrong, in one sentence a user can read. */
  message: string;
  /** What the user can do about it. */
  action?: string;
  /** Raw output that explains the failure (command stderr, plugin output). */
  output?: string;
  /** Overrides the code's default. */
  retryable?: boolean;
  /** Structured facts (host, path, run id, JSON pointer...). Never secrets. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** The JSON form of an error, as stored in runs, job results and API responses. */
export interface SerializedError {
  name: string;
  code: ErrorCode;
  message: string;
  retryable: boolean;
  action?: string;
  output?: string;
  details?: Record<string, unknown>;
  stack?: string;
}

/**
 * Base of every error dvx raises on purpose. Carries a stable code and whether retrying can help.
 * `instanceof` works across copies of this module (plugin bundles, child processes) through a symbol brand.
 */
export class DvxError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly action?: string;
  readonly output?: string;
  readonly details?: Record<string, unknown>;

  constructor(options: DvxErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.retryable = options.retryable ?? ERROR_CODES[options.code].retryable;
    if (options.action !== undefined) this.action = options.action;
    if (options.output !== undefined) this.output = options.output;
    if (options.details !== undefined) this.details = options.details;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === DvxError)
      return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  toJSON(options: { stack?: boolean } = {}): SerializedError {
    const json: SerializedError = {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
    };
    if (this.action !== undefined) json.action = this.action;
    if (this.output !== undefined) json.output = this.output;
    if (this.details !== undefined) json.details = this.details;
    if (options.stack && this.stack) json.stack = this.stack;
    return json;
  }

  /** Rebuilds an error from its JSON form; unknown shapes become INTERNAL errors. */
  static fromJSON(json: unknown): DvxError {
    const value = (typeof json === 'object' && json !== null ? json : {}) as Partial<SerializedError>;
    const code: ErrorCode = isErrorCode(value.code) ? value.code : 'INTERNAL';
    const error = new DvxError({
      code,
      message: typeof value.message === 'string' ? value.message : 'Unknown error',
      ...(typeof value.retryable === 'boolean' ? { retryable: value.retryable } : {}),
      ...(typeof value.action === 'string' ? { action: value.action } : {}),
      ...(typeof value.output === 'string' ? { output: value.output } : {}),
      ...(value.details && typeof value.details === 'object' ? { details: value.details } : {}),
    });
    if (typeof value.name === 'string') error.name = value.name;
    if (typeof value.stack === 'string') error.stack = value.stack;
    return error;
  }
}

export function isDvxError(value: unknown): value is DvxError {
  return value instanceof DvxError;
}
