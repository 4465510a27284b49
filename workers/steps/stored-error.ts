import { isErrorCode, type SerializedError } from '../../errors/index.js';
import type { StepError } from '../../machines/index.js';

/** A run's error as records keep it. Machines carry it structurally; it came from a step's DvxError or the run's cancellation. */
export function storedError(error: StepError): SerializedError {
  return {
    ...error,
    name: error.name ?? 'DvxError',
    code: isErrorCode(error.code) ? error.code : 'INTERNAL',
    retryable: error.retryable ?? false,
  };
}
