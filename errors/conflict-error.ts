import { DvxError } from './dvx-error.js';
import type { ErrorCode } from './error-code.js';

/** The request conflicts with the state of an object: locked by a run, depended on, or in the wrong state. */
export class ConflictError extends DvxError {
  constructor(options: {
    code?: Extract<ErrorCode, 'OBJECT_LOCKED' | 'HAS_DEPENDENTS' | 'CONFLICT'>;
    message: string;
    action?: string;
    details?: Record<string, unknown>;
  }) {
    super({
      code: options.code ?? 'CONFLICT',
      message: options.message,
      ...(options.action ? { action: options.action } : {}),
      ...(options.details ? { details: options.details } : {}),
    });
  }
}
