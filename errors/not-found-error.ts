import { DvxError } from './dvx-error.js';

/** No object of that kind and id. */
export class NotFoundError extends DvxError {
  constructor(kind: string, id: string, action?: string) {
    super({
      code: 'NOT_FOUND',
      message: `No ${kind} with id "${id}".`,
      action: action ?? `List the existing ${kind}s and use one of their ids.`,
      details: { kind, id },
    });
  }
}
