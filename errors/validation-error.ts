import { DvxError } from './dvx-error.js';

/** One reason an input was refused. `pointer` is a JSON pointer into the input ("" for the whole input). */
export interface ValidationIssue {
  pointer: string;
  message: string;
}

/** Bad input: says what is wrong and where; nothing was changed. */
export class ValidationError extends DvxError {
  readonly issues: ValidationIssue[];
  constructor(
    message: string,
    issues: ValidationIssue[] = [],
    options: { action?: string; details?: Record<string, unknown> } = {},
  ) {
    super({ code: 'VALIDATION_FAILED', message, ...options, details: { ...options.details, issues } });
    this.issues = issues;
  }
}
