import { StorageError } from '../errors/index.js';
import type {
  AttachedAmongRequest,
  AttachRequest,
  AttachResult,
  DetachRequest,
  MountTransport,
  RunHostScript,
} from './mount-transport.js';
import {
  HOLDERS_FUNCTION,
  mountBusyError,
  parseHolders,
  unmountFailedError,
  type MountHolder,
} from './mount-holders.js';

/** Options of {@link BindMountTransport}. */
export interface BindMountTransportOptions {
  /** How the transport runs its scripts on the host: hosts' `runBash`, given by the composition root. */
  runBash: RunHostScript;
  /** How many more times a busy unmount is tried before MOUNT_BUSY. @defaultValue 5 */
  busyRetries?: number;
  /** Pause before each of those tries. @defaultValue 500 ms */
  busyRetryIntervalMs?: number;
  /** Limit of each script on the host. @defaultValue 60 000 ms */
  timeoutMs?: number;
}

export const BIND_MOUNT_DEFAULTS: Required<Omit<BindMountTransportOptions, 'runBash'>> = {
  busyRetries: 5,
  busyRetryIntervalMs: 500,
  timeoutMs: 60_000,
};

// Exit codes of the scripts below, so that the engine can tell the outcomes apart.
const OTHER_MOUNT = 3;
const BUSY = 4;
const NO_SOURCE = 5;
const NOT_EMPTY = 6;

// Paths arrive as variables (never pasted into the script). The mount path is attached, then owned, then made
// read-only (a chown on a read-only mount would fail); each stage checks its state first, so that a retry after a
// crash at any point finishes the job and a repeated attach changes nothing. A directory that already holds files
// (and is not this mount) is never mounted over: its files would be hidden until the object is deleted. The last
// line of stdout says whether the script made the mount directory (created), found it (existing) or found it
// attached already (attached).
/**
 * Prints each path of $MOUNT_PATHS (one a line) resolved as `cd -P` resolves it (an empty line when it is not a
 * directory), then a separator line, then the mount points of /proc/self/mountinfo (octal escapes kept). Shell
 * builtins only: no process per path, so a thousand paths cost one command.
 */
const ATTACHED_AMONG = String.raw`
while IFS= read -r p; do
  if [ -n "$p" ] && cd -P -- "$p" 2>/dev/null; then printf '%s\n' "$PWD"; else printf '\n'; fi
done <<EOF_PATHS
$MOUNT_PATHS
EOF_PATHS
printf '%s\n' '--mountinfo--'
while read -r _ _ _ _ point _; do printf '%s\n' "$point"; done </proc/self/mountinfo
`;

/** A mount point as /proc/self/mountinfo writes it: space, tab, newline and backslash as octal escapes. */
function unescapeMountPoint(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

const ATTACH = String.raw`
set -u
[ -d "$SOURCE_PATH" ] || { echo "$SOURCE_PATH does not exist on this host: is the engine's storage shared with it?" >&2; exit ${NO_SOURCE}; }
if mountpoint -q "$MOUNT_PATH" 2>/dev/null; then
  if [ "$(stat -c %d:%i -- "$MOUNT_PATH")" != "$(stat -c %d:%i -- "$SOURCE_PATH")" ]; then
    findmnt -rn -o SOURCE --mountpoint "$MOUNT_PATH" >&2 || echo "an unknown filesystem" >&2
    exit ${OTHER_MOUNT}
  fi
  directory=attached
else
  if [ -d "$MOUNT_PATH" ] && [ -n "$(ls -A -- "$MOUNT_PATH" 2>/dev/null | head -n 1)" ]; then exit ${NOT_EMPTY}; fi
  if [ -e "$MOUNT_PATH" ] || [ -L "$MOUNT_PATH" ]; then directory=existing; else directory=created; fi
  mkdir -p -- "$MOUNT_PATH" || exit 1
  mount --bind -- "$SOURCE_PATH" "$MOUNT_PATH" || exit 1
fi
options=,$(findmnt -n -o OPTIONS --mountpoint "$MOUNT_PATH" | tail -n 1),
if [ -n "$OWNER" ] && [ "$(stat -c %u:%g -- "$MOUNT_PATH")" != "$OWNER" ]; then
  case "$options" in *,ro,*) mount -o remount,bind,rw -- "$MOUNT_PATH" || exit 1; options=,rw, ;; esac
  chown -- "$OWNER" "$MOUNT_PATH" || exit 1
fi
case "$READ_ONLY:$options" in
  1:*,rw,*) mount -o remount,bind,ro -- "$MOUNT_PATH" || exit 1 ;;
  :*,ro,*) mount -o remount,bind,rw -- "$MOUNT_PATH" || exit 1 ;;
esac
echo "directory $directory"
exit 0
`;

// Unmounts, naming the processes that keep the mount busy (HOLDERS_FUNCTION). Once nothing is mounted there,
// REMOVE_DIR removes the mount directory if it is empty (rmdir never removes anything else).
const DETACH = String.raw`
set -u
target=$(realpath -m -- "$MOUNT_PATH")
${HOLDERS_FUNCTION}for round in 1 2 3 4 5 6 7 8; do
  if ! mountpoint -q "$target" 2>/dev/null; then
    if [ -n "$REMOVE_DIR" ] && [ -d "$target" ] && [ ! -L "$MOUNT_PATH" ]; then rmdir -- "$target" 2>/dev/null || true; fi
    exit 0
  fi
  if ! out=$(umount -- "$target" 2>&1); then
    case "$out" in
      *busy*) holders; exit ${BUSY} ;;
      *) echo "$out" >&2; exit 1 ;;
    esac
  fi
done
echo "$target is still mounted after 8 unmounts" >&2
exit 1
`;

/**
 * Bind mounts over SSH, for hosts that see the engine's filesystem at the same paths (a host on the engine machine,
 * or one sharing its storage). Needs a login user that may mount (root). Remote hosts need an `nfs` transport.
 */
export class BindMountTransport implements MountTransport {
  readonly kind = 'bind' as const;
  readonly #options: Required<BindMountTransportOptions>;

  constructor(options: BindMountTransportOptions) {
    this.#options = { ...BIND_MOUNT_DEFAULTS, ...options };
  }

  async attach(request: AttachRequest): Promise<AttachResult> {
    const result = await this.#options.runBash(request.connection, ATTACH, {
      variables: {
        SOURCE_PATH: request.sourcePath,
        MOUNT_PATH: request.mountPath,
        READ_ONLY: request.readOnly ? '1' : '',
        OWNER: request.ownership ? `${request.ownership.uid}:${request.ownership.gid}` : '',
      },
      timeoutMs: this.#options.timeoutMs,
    });
    if (result.exitCode === 0) {
      const directory = /^directory (\w+)$/m.exec(result.stdout)?.[1];
      return { createdDirectory: directory === 'created' ? true : directory === 'existing' ? false : null };
    }
    const host = request.connection.address.name;
    const details = { host, mountPath: request.mountPath, sourcePath: request.sourcePath };
    if (result.exitCode === OTHER_MOUNT) {
      const other = result.stderr.trim();
      throw new StorageError({
        code: 'MOUNT_FAILED',
        message: `${request.mountPath} on ${host} already has something else mounted: ${other}.`,
        action: 'Unmount it, or give this object another mount path.',
        details: { ...details, mounted: other },
      });
    }
    if (result.exitCode === NOT_EMPTY) {
      throw new StorageError({
        code: 'MOUNT_FAILED',
        message: `${request.mountPath} on ${host} is a directory that already holds files: mounting over it would hide them.`,
        action: 'Give this object the path of a new or empty directory (or empty that one), then retry.',
        details,
      });
    }
    throw new StorageError({
      code: 'MOUNT_FAILED',
      message: `Mounting ${request.sourcePath} at ${request.mountPath} on ${host} failed: ${result.stderr.trim() || `exit code ${result.exitCode}`}`,
      action:
        result.exitCode === NO_SOURCE
          ? "The bind transport needs a host that shares the engine's filesystem."
          : 'Check that the login user may mount (root) and that the mount path is valid.',
      output: result.stderr,
      details,
    });
  }

  async detach(request: DetachRequest): Promise<void> {
    const host = request.connection.address.name;
    let holders: MountHolder[] = [];
    for (let attempt = 0; attempt <= this.#options.busyRetries; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, this.#options.busyRetryIntervalMs));
      const result = await this.#options.runBash(request.connection, DETACH, {
        variables: { MOUNT_PATH: request.mountPath, REMOVE_DIR: request.removeDirectory ? '1' : '' },
        timeoutMs: this.#options.timeoutMs,
      });
      if (result.exitCode === 0) return;
      if (result.exitCode !== BUSY) {
        throw unmountFailedError(host, request.mountPath, result);
      }
      holders = parseHolders(result.stdout);
    }
    throw mountBusyError(host, request.mountPath, holders, this.#options.busyRetries + 1);
  }

  async isAttached(request: Omit<DetachRequest, 'removeDirectory'>): Promise<boolean> {
    const result = await this.#options.runBash(request.connection, 'mountpoint -q "$MOUNT_PATH"', {
      variables: { MOUNT_PATH: request.mountPath },
      timeoutMs: this.#options.timeoutMs,
    });
    return result.exitCode === 0;
  }

  async attachedAmong(request: AttachedAmongRequest): Promise<Set<string>> {
    if (request.mountPaths.length === 0) return new Set();
    const result = await this.#options.runBash(request.connection, ATTACHED_AMONG, {
      variables: { MOUNT_PATHS: request.mountPaths.join('\n') },
      timeoutMs: this.#options.timeoutMs,
    });
    const host = request.connection.address.name;
    const lines = result.stdout.split('\n');
    const separator = lines.indexOf('--mountinfo--');
    if (result.exitCode !== 0 || separator !== request.mountPaths.length)
      throw new StorageError({
        code: 'MOUNT_FAILED',
        message: `Listing the mounts of ${host} failed: ${result.stderr.trim() || `exit code ${result.exitCode}`}`,
        output: result.stderr,
        details: { host },
      });
    const points = new Set(lines.slice(separator + 1).map(unescapeMountPoint));
    const attached = new Set<string>();
    request.mountPaths.forEach((path, i) => {
      const resolved = lines[i];
      if (resolved && points.has(resolved)) attached.add(path);
    });
    return attached;
  }
}
