/**
 * Stable error codes. A code never changes meaning once released; clients, tests and operators match on it.
 * `retryable` is the default for errors of that code; an individual error may override it.
 */
export const ERROR_CODES = {
  // hosts (SSH)
  HOST_UNREACHABLE: { retryable: true, summary: 'The host refused or did not answer the connection.' },
  HOST_CONNECTION_LOST: { retryable: true, summary: 'The connection to the host dropped during a command.' },
  HOST_TIMEOUT: { retryable: true, summary: 'The host did not finish in time.' },
  HOST_AUTH_FAILED: { retryable: false, summary: 'The host rejected the credentials.' },
  HOST_KEY_MISMATCH: { retryable: false, summary: "The host's key differs from the one pinned when it was added." },
  HOST_BAD_INPUT: { retryable: false, summary: 'A command or its parameters were invalid.' },
  HOST_COMMAND_FAILED: { retryable: false, summary: 'A command on the host exited with a non-zero status.' },
  HOST_CAPABILITY_MISSING: { retryable: false, summary: 'The host lacks a program or right that the operation needs.' },
  // plugins
  PLUGIN_USER_ERROR: { retryable: false, summary: 'The plugin reported an error for the user to act on.' },
  PLUGIN_FAULT: { retryable: false, summary: 'The plugin threw an unexpected error.' },
  PLUGIN_TIMEOUT: { retryable: false, summary: 'The plugin operation did not finish within its timeout.' },
  PLUGIN_CRASHED: { retryable: false, summary: 'The plugin process exited before answering.' },
  PLUGIN_INVALID_INPUT: { retryable: false, summary: 'An input to the plugin operation does not match its schema.' },
  PLUGIN_INVALID_OUTPUT: { retryable: false, summary: 'The plugin returned a value that does not match its schema.' },
  PLUGIN_OPERATION_MISSING: { retryable: false, summary: 'The plugin does not implement the operation.' },
  PLUGIN_CONFIG_INVALID: { retryable: false, summary: 'The plugin configuration or schema is invalid.' },
  PLUGIN_BUILD_FAILED: { retryable: false, summary: 'The plugin could not be built.' },
  // user hooks
  HOOK_FAILED: { retryable: false, summary: 'A user hook exited with a non-zero status.' },
  // storage and mounts
  STORAGE_NOT_FOUND: { retryable: false, summary: 'The dataset, snapshot or clone does not exist.' },
  STORAGE_EXISTS: { retryable: false, summary: 'A dataset, snapshot or clone of that name already exists.' },
  STORAGE_BUSY: { retryable: true, summary: 'The storage is in use.' },
  STORAGE_NO_SPACE: { retryable: false, summary: 'The storage pool is full.' },
  STORAGE_FREE_SPACE_LOW: {
    retryable: false,
    summary: "The storage pool's free space is below its floor, so no new snapshot or clone is made.",
  },
  STORAGE_UNSUPPORTED: { retryable: false, summary: 'The storage backend cannot do this here.' },
  STORAGE_FAILED: { retryable: false, summary: 'A storage command failed.' },
  MOUNT_BUSY: { retryable: true, summary: 'The mount is in use and cannot be detached.' },
  MOUNT_FAILED: { retryable: false, summary: 'The mount could not be attached or detached.' },
  // requests and records
  VALIDATION_FAILED: { retryable: false, summary: 'The input is invalid.' },
  NOT_FOUND: { retryable: false, summary: 'No such object.' },
  OBJECT_LOCKED: { retryable: false, summary: 'Another run holds the object.' },
  HAS_DEPENDENTS: { retryable: false, summary: 'Other objects depend on this one.' },
  CONFLICT: { retryable: false, summary: 'The request conflicts with the current state.' },
  UNAUTHORIZED: { retryable: false, summary: 'Missing or invalid credentials for the API.' },
  FORBIDDEN: { retryable: false, summary: 'The caller may not do this.' },
  // engine
  ENGINE_UNREACHABLE: { retryable: true, summary: 'The dvx engine API did not answer.' },
  REDIS_UNAVAILABLE: { retryable: true, summary: 'Redis could not be reached.' },
  REDIS_MISCONFIGURED: { retryable: false, summary: 'Redis is not configured the way dvx needs.' },
  CONFIG_INVALID: { retryable: false, summary: 'The engine configuration is invalid.' },
  DEPENDENCY_MISSING: { retryable: false, summary: 'A system program that dvx needs is not installed.' },
  RUN_CANCELLED: { retryable: false, summary: 'The run was cancelled.' },
  STEP_INTERRUPTED: {
    retryable: true,
    summary: 'The engine running a step attempt stopped before the attempt ended; the step was taken up again.',
  },
  STEP_DEADLINE_EXCEEDED: { retryable: false, summary: 'A step kept failing until its retry deadline passed.' },
  STEP_HANDLER_MISSING: { retryable: false, summary: 'A lifecycle names a step this engine has no handler for.' },
  MACHINE_VERSION_UNSUPPORTED: {
    retryable: false,
    summary: 'The run was started by a machine version this engine cannot resume.',
  },
  INTERNAL: { retryable: false, summary: 'An unexpected engine error.' },
} as const satisfies Record<string, { retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
