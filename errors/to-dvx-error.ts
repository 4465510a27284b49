import { isChannelOpenRefused } from './classify-host-failure.js';
import { DvxError } from './dvx-error.js';
import { HostError } from './host-error.js';
import { StorageError } from './storage-error.js';

/** What the caller knows about where an error happened; used to word the message. */
export interface ErrorContext {
  /** Host name or address, for SSH failures. */
  host?: string;
  /** What was being done ("run a command", "connect", "clone snapshot"). */
  doing?: string;
  /**
   * The seam that caught the error, for failures whose meaning depends on it: a failed local command or file
   * operation of a storage backend becomes a STORAGE_* error, one of a mount transport a MOUNT_* error.
   */
  domain?: 'storage' | 'mount';
}

const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

const REDIS_DOWN =
  /Connection is closed|MaxRetriesPerRequest|Stream isn't writeable|ECONNREFUSED .*:6379|Redis.*(closed|unavailable)|LOADING/i;

/**
 * The one place where raw failures (ssh2, Node system errors, ioredis, storage commands) become typed dvx errors.
 * Every seam that talks to the outside calls this on whatever it catches.
 */
export function toDvxError(error: unknown, context: ErrorContext = {}): DvxError {
  if (error instanceof DvxError) return error;
  const raw = (error instanceof Error ? error : new Error(String(error))) as Error & {
    code?: string;
    level?: string;
    syscall?: string;
  };
  const where = context.host ? ` ${context.host}` : '';
  const doing = context.doing ? ` while trying to ${context.doing}` : '';
  const hostOptions = context.host === undefined ? {} : { host: context.host };

  // ssh2 tags its errors with a level.
  if (raw.level === 'client-timeout' && /keepalive/i.test(raw.message)) {
    return new HostError({
      code: 'HOST_CONNECTION_LOST',
      ...hostOptions,
      cause: raw,
      message: `Host${where} stopped answering SSH keepalives${doing}.`,
      action:
        'dvx retries this on its own; if it persists, check that the host is up and the network between it and the engine.',
    });
  }
  if (raw.level === 'handshake' && /Host denied/i.test(raw.message)) {
    return new HostError({
      code: 'HOST_KEY_MISMATCH',
      ...hostOptions,
      cause: raw,
      message: `Host${where} presented a host key other than the pinned one${doing}.`,
      action:
        'If you have verified that the host was reinstalled, pin its new key (dvx env refresh ENV --accept-new-host-key).',
    });
  }
  switch (raw.level) {
    case 'client-authentication':
      return new HostError({
        code: 'HOST_AUTH_FAILED',
        ...hostOptions,
        cause: raw,
        message: `Host${where} rejected the credentials${doing}.`,
        action: 'Check the user name and the private key or password given for this environment.',
      });
    case 'client-timeout':
      return new HostError({
        code: 'HOST_TIMEOUT',
        ...hostOptions,
        cause: raw,
        message: `Host${where} did not complete the SSH handshake in time${doing}.`,
        action: 'Check that the host is up and that sshd answers on the given port.',
      });
    case 'client-dns':
      return new HostError({
        code: 'HOST_UNREACHABLE',
        ...hostOptions,
        cause: raw,
        message: `Host name${where} could not be resolved${doing}.`,
        action: 'Check the host address.',
      });
    default:
      break;
  }

  if (raw.code && TRANSIENT_SOCKET_CODES.has(raw.code)) {
    const lost = raw.code === 'ECONNRESET' || raw.code === 'EPIPE' || raw.code === 'ECONNABORTED';
    return new HostError({
      code: lost ? 'HOST_CONNECTION_LOST' : raw.code === 'ETIMEDOUT' ? 'HOST_TIMEOUT' : 'HOST_UNREACHABLE',
      ...hostOptions,
      cause: raw,
      message: `${lost ? 'Connection to' : 'Could not reach'} host${where}${doing}: ${raw.message}.`,
      action: 'dvx retries this on its own; if it persists, check that the host is up and reachable.',
    });
  }
  if (raw.level === 'client-socket' || raw.level === 'protocol') {
    return new HostError({
      code: 'HOST_CONNECTION_LOST',
      ...hostOptions,
      cause: raw,
      message: `Connection to host${where} failed${doing}: ${raw.message}.`,
      action: 'dvx retries this on its own; if it persists, check the host and the network.',
    });
  }
  // ssh2: the host refused to open another session channel (sshd MaxSessions, or a connection on its way down).
  if (isChannelOpenRefused(raw)) {
    return new HostError({
      code: 'HOST_CONNECTION_LOST',
      ...hostOptions,
      cause: raw,
      message: `Host${where} refused to open a session${doing}: ${raw.message}.`,
      action: "dvx retries this on its own; if it persists, check MaxSessions in the host's sshd_config.",
    });
  }
  if (raw.code === 'ENOENT' && typeof raw.syscall === 'string' && raw.syscall.startsWith('spawn ')) {
    const program = raw.syscall.slice('spawn '.length);
    return new DvxError({
      code: 'DEPENDENCY_MISSING',
      cause: raw,
      message: `The program ${program} is not installed on the engine${doing}.`,
      action: `Install ${program} (run \`npm run setup\` as root) and try again.`,
      details: { program },
    });
  }
  if (raw.code === 'ENOSPC') {
    return new StorageError({
      code: 'STORAGE_NO_SPACE',
      cause: raw,
      message: `No space left${doing}.`,
      action: 'Free space in the storage pool or grow it.',
    });
  }
  if (context.domain) return storageError(raw, context.domain, doing);
  if (raw.name === 'MaxRetriesPerRequestError' || REDIS_DOWN.test(raw.message)) {
    return new DvxError({
      code: 'REDIS_UNAVAILABLE',
      cause: raw,
      message: `Redis is unavailable${doing}: ${raw.message}.`,
      action:
        "Check that the engine's redis-server is running (GET /health shows what is down); an embedded one is restarted by the engine. Then try again.",
    });
  }
  return new DvxError({ code: 'INTERNAL', cause: raw, message: raw.message || 'Unexpected error' });
}

const BUSY = /\b(busy|EBUSY)\b/i;
const NO_SPACE = /no space left|ENOSPC|quota exceeded|EDQUOT/i;

/**
 * A storage or mount failure: a local command (execFile error carrying `stderr`) or a Node file-system error.
 * "busy" is retryable (something still uses it), "no space" is not, anything else is a plain failure with its output.
 */
function storageError(
  raw: Error & { code?: string | number; stderr?: unknown; cmd?: unknown },
  domain: 'storage' | 'mount',
  doing: string,
): StorageError {
  const stderr = typeof raw.stderr === 'string' ? raw.stderr.trim() : '';
  const text = `${stderr}\n${raw.message}\n${typeof raw.code === 'string' ? raw.code : ''}`;
  const output = stderr ? { output: stderr } : {};
  const details = typeof raw.cmd === 'string' ? { details: { command: raw.cmd } } : {};
  const reason = stderr || raw.message;
  if (BUSY.test(text)) {
    return new StorageError({
      code: domain === 'mount' ? 'MOUNT_BUSY' : 'STORAGE_BUSY',
      cause: raw,
      ...output,
      ...details,
      message: `In use${doing}: ${reason}.`,
      action: 'Something still uses it (a mount or an open file); dvx retries, or stop what holds it.',
    });
  }
  if (NO_SPACE.test(text)) {
    return new StorageError({
      code: 'STORAGE_NO_SPACE',
      cause: raw,
      ...output,
      ...details,
      message: `No space left${doing}: ${reason}.`,
      action: 'Free space in the storage pool or grow it.',
    });
  }
  return new StorageError({
    code: domain === 'mount' ? 'MOUNT_FAILED' : 'STORAGE_FAILED',
    cause: raw,
    ...output,
    ...details,
    message: `Failed${doing}: ${reason}.`,
  });
}
