export { ERROR_CODES, isErrorCode, type ErrorCode } from './error-code.js';
export { DvxError, isDvxError, type DvxErrorOptions, type SerializedError } from './dvx-error.js';
export { HostError, type HostErrorCode } from './host-error.js';
export { PluginError, type PluginErrorCode } from './plugin-error.js';
export { StorageError, type StorageErrorCode } from './storage-error.js';
export { FreeSpaceLowError, type FreeSpaceLow } from './free-space-low-error.js';
export { formatBytes } from './format-bytes.js';
export { ValidationError, type ValidationIssue } from './validation-error.js';
export { NotFoundError } from './not-found-error.js';
export { ConflictError } from './conflict-error.js';
export { toDvxError, type ErrorContext } from './to-dvx-error.js';
export { cancellationError, startDeadline, type Deadline, type DeadlineOptions } from './deadline.js';
export { CommandFailedError, outputTail, OUTPUT_TAIL_CHARS, type CommandFailure } from './command-failed-error.js';
export {
  isChannelOpenRefused,
  isNotConnected,
  rsyncFailureError,
  RSYNC_OK_EXIT_CODES,
  type RsyncCopy,
  type RsyncFailure,
} from './classify-host-failure.js';
