import { StorageError } from '../errors/index.js';
import { runBash } from '../hosts/index.js';
import type { AttachRequest, DetachRequest, MountTransport } from './mount-transport.js';

/** Options of {@link BindMountTransport}. */
export interface BindMountTransportOptions {
  /** Attempts of a busy unmount before giving up. @defaultValue 5 */
  busyRetries?: number;
  /** Pause between them. @defaultValue 500 ms */
  busyRetryIntervalMs?: number;
  /** Limit of each command on the host. @defaultValue 60 000 ms */
  timeoutMs?: number;
}

export const BIND_MOUNT_DEFAULTS: Required<BindMountTransportOptions> = { busyRetries: 5, busyRetryIntervalMs: 500, timeoutMs: 60_000 };

// Exit codes of the scripts below, so that the engine can tell the outcomes apart.
const OTHER_MOUNT = 3;
const BUSY = 4;
const NO_SOURCE = 5;

const ATTACH = String.raw`
set -u
[ -d "$SOURCE_PATH" ] || { echo "$SOURCE_PATH does not exist on this host: is the engine's storage shared with it?" >&2; exit ${NO_SOURCE}; }
if mountpoint -q "$MOUNT_PATH" 2>/dev/null; then
  if [ "$(stat -c %d:%i "$MOUNT_PATH")" = "$(stat -c %d:%i "$SOURCE_PATH")" ]; then exit 0; fi
  findmnt -rn -o SOURCE --mountpoint "$MOUNT_PATH" >&2 || true
  exit ${OTHER_MOUNT}
fi
mkdir -p "$MOUNT_PATH" || exit 1
mount --bind "$SOURCE_PATH" "$MOUNT_PATH" || exit 1
if [ -n "$READ_ONLY" ]; then mount -o remount,bind,ro "$MOUNT_PATH" || exit 1; fi
if [ -n "$OWNER" ]; then chown "$OWNER" "$MOUNT_PATH" || exit 1; fi
`;

const DETACH = String.raw`
set -u
mountpoint -q "$MOUNT_PATH" 2>/dev/null || exit 0
out=$(umount "$MOUNT_PATH" 2>&1) && exit 0
case "$out" in
  *busy*)
    for pid in $(fuser -m "$MOUNT_PATH" 2>/dev/null); do
      pid=$(printf %s "$pid" | tr -dc 0-9)
      [ -n "$pid" ] && printf 'holder %s %s\n' "$pid" "$(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null | head -c 200)"
    done
    exit ${BUSY} ;;
  *) echo "$out" >&2; exit 1 ;;
esac
`;

/** Bind mounts over SSH, for hosts that see the engine's filesystem at the same paths. */
export class BindMountTransport implements MountTransport {
  readonly kind = 'bind' as const;
  readonly #options: Required<BindMountTransportOptions>;

  constructor(options: BindMountTransportOptions = {}) {
    this.#options = { ...BIND_MOUNT_DEFAULTS, ...options };
  }

  async attach(request: AttachRequest): Promise<void> {
    const result = await runBash(request.connection, ATTACH, {
      variables: {
        SOURCE_PATH: request.sourcePath,
        MOUNT_PATH: request.mountPath,
        READ_ONLY: request.readOnly ? '1' : '',
        OWNER: request.ownership ? `${request.ownership.uid}:${request.ownership.gid}` : '',
      },
      timeoutMs: this.#options.timeoutMs,
    });
    if (result.exitCode === 0) return;
    const host = request.connection.address.name;
    if (result.exitCode === OTHER_MOUNT) {
      throw new StorageError({ code: 'MOUNT_FAILED', message: `${request.mountPath} on ${host} already has something else mounted (${result.stderr.trim()}).`, action: 'Unmount it, or give the VDB another mount path.', details: { host, mountPath: request.mountPath } });
    }
    throw new StorageError({
      code: 'MOUNT_FAILED',
      message: `Mounting ${request.sourcePath} at ${request.mountPath} on ${host} failed: ${result.stderr.trim()}`,
      action: result.exitCode === NO_SOURCE ? 'The bind transport needs hosts that share the engine filesystem.' : 'Check that the login user may mount (root) and the path is valid.',
      output: result.stderr,
      details: { host, mountPath: request.mountPath },
    });
  }

  async detach(request: DetachRequest): Promise<void> {
    const host = request.connection.address.name;
    let holders: { pid: number; command: string }[] = [];
    for (let attempt = 1; attempt <= this.#options.busyRetries; attempt += 1) {
      const result = await runBash(request.connection, DETACH, { variables: { MOUNT_PATH: request.mountPath }, timeoutMs: this.#options.timeoutMs });
      if (result.exitCode === 0) return;
      if (result.exitCode !== BUSY) {
        throw new StorageError({ code: 'MOUNT_FAILED', message: `Unmounting ${request.mountPath} on ${host} failed: ${result.stderr.trim()}`, output: result.stderr, details: { host, mountPath: request.mountPath } });
      }
      holders = result.stdout
        .split('\n')
        .filter((line) => line.startsWith('holder '))
        .map((line) => {
          const [, pid, ...command] = line.split(' ');
          return { pid: Number(pid), command: command.join(' ').trim() };
        });
      if (attempt < this.#options.busyRetries) await new Promise((resolve) => setTimeout(resolve, this.#options.busyRetryIntervalMs));
    }
    const named = holders.length ? holders.map((holder) => `pid ${holder.pid} (${holder.command || '?'})`).join(', ') : 'an unknown process';
    throw new StorageError({
      code: 'MOUNT_BUSY',
      message: `${request.mountPath} on ${host} is busy: ${named} ${holders.length === 1 ? 'uses' : 'use'} it.`,
      action: 'Stop those processes (or leave the directory), then retry.',
      details: { host, mountPath: request.mountPath, holders },
    });
  }

  async isAttached(request: DetachRequest): Promise<boolean> {
    const result = await runBash(request.connection, 'mountpoint -q "$MOUNT_PATH"', { variables: { MOUNT_PATH: request.mountPath }, timeoutMs: this.#options.timeoutMs });
    return result.exitCode === 0;
  }
}
