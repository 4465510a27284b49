import { DvxError, type DvxErrorOptions } from './dvx-error.js';
import type { ErrorCode } from './error-code.js';

export type HostErrorCode = Extract<ErrorCode, `HOST_${string}`>;

/** A failure reaching or running something on a host over SSH. `details.host` names the host. */
export class HostError extends DvxError {
  declare readonly code: HostErrorCode;
  constructor(options: DvxErrorOptions & { code: HostErrorCode; host?: string }) {
    const { host, ...rest } = options;
    super({ ...rest, details: { ...(host === undefined ? {} : { host }), ...rest.details } });
  }
}
