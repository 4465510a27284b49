import { DvxError, type DvxErrorOptions } from './dvx-error.js';
import type { ErrorCode } from './error-code.js';

export type StorageErrorCode = Extract<ErrorCode, `STORAGE_${string}` | `MOUNT_${string}`>;

/** A failure of a storage backend or a mount transport. */
export class StorageError extends DvxError {
  declare readonly code: StorageErrorCode;
  constructor(options: DvxErrorOptions & { code: StorageErrorCode }) {
    super(options);
  }
}
