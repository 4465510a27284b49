import { createHash } from 'node:crypto';
import { chown, stat } from 'node:fs/promises';
import { HostError, StorageError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import {
  HOLDERS_FUNCTION,
  mountBusyError,
  parseHolders,
  unmountFailedError,
  type MountHolder,
} from './mount-holders.js';
import type {
  AttachedAmongRequest,
  AttachRequest,
  AttachResult,
  DetachRequest,
  MountHostConnection,
  MountTransport,
  RunHostScript,
} from './mount-transport.js';
import { storageWork } from './run-command.js';
import type { SftpServer } from './sftp-server.js';

/** Options of {@link SshfsMountTransport}. */
export interface SshfsMountTransportOptions {
  /** How the transport runs its scripts on the host: hosts' `runBash`, given by the composition root. */
  runBash: RunHostScript;
  /** The engine machine's SFTP server, which serves each mount its dataset. */
  server: SftpServer;
  /**
   * The address hosts reach the engine machine at. @defaultValue the address each host sees the engine's SSH
   * connection come from (`$SSH_CONNECTION`), which is right unless a NAT stands between them
   */
  engineAddress?: string;
  /** Where a host keeps the key and known_hosts of each mount (root only). @defaultValue '/var/lib/dvx/sshfs' */
  hostKeyDir?: string;
  /** How many more times a busy unmount is tried before MOUNT_BUSY. @defaultValue 5 */
  busyRetries?: number;
  /** Pause before each of those tries. @defaultValue 500 ms */
  busyRetryIntervalMs?: number;
  /** Limit of each script on the host. @defaultValue 60 000 ms */
  timeoutMs?: number;
  /** @defaultValue silentLogger */
  logger?: Logger;
}

export const SSHFS_MOUNT_DEFAULTS = {
  hostKeyDir: '/var/lib/dvx/sshfs',
  busyRetries: 5,
  busyRetryIntervalMs: 500,
  timeoutMs: 60_000,
};

/** The filesystem name a mount of export `id` shows in the host's mount table. */
const fsName = (id: string) => `dvx-sftp:${id}`;

// Exit codes of the scripts below.
const ATTACHED = 0;
const NEEDS_MOUNT = 10;
const OTHER_MOUNT = 3;
const BUSY = 4;
const NOT_EMPTY = 6;
const NO_SSHFS = 7;
const NO_FUSE = 8;

// What the host needs: sshfs, and FUSE.
const CHECK_HOST = String.raw`
sshfs=$(command -v sshfs) && [ -f "$sshfs" ] && [ -x "$sshfs" ] || exit ${NO_SSHFS}
[ -c /dev/fuse ] || modprobe fuse 2>/dev/null; [ -c /dev/fuse ] || exit ${NO_FUSE}
`;

// What is at the mount path now. A mount of this export that answers, with the asked access, is kept (exit 0); one
// that no longer answers (the host lost its connection for good, the engine machine rebooted) or has the other access
// is dropped (lazily: nothing can be using a dead mount) and mounted again (exit NEEDS_MOUNT, with the addresses the
// engine's SSH connection shows, to reach the engine machine by). A directory holding files is never mounted over.
const PROBE = String.raw`
set -u
echo "connection $SSH_CONNECTION"
mounted=$(findmnt -rn -o SOURCE,OPTIONS --mountpoint "$MOUNT_PATH" 2>/dev/null | tail -n 1)
if [ -n "$mounted" ]; then
  source=${'$'}{mounted%% *}
  if [ "$source" != "$FS_NAME" ]; then echo "$source" >&2; exit ${OTHER_MOUNT}; fi
  case ",${'$'}{mounted##* }," in *,ro,*) mode=1 ;; *) mode= ;; esac
  if [ "$mode" = "$READ_ONLY" ] && timeout 10 stat -c %i -- "$MOUNT_PATH" >/dev/null 2>&1; then exit ${ATTACHED}; fi
  umount -l -- "$MOUNT_PATH" || exit 1
  directory=attached
elif [ -d "$MOUNT_PATH" ] && [ -n "$(ls -A -- "$MOUNT_PATH" 2>/dev/null | head -n 1)" ]; then
  exit ${NOT_EMPTY}
elif [ -e "$MOUNT_PATH" ] || [ -L "$MOUNT_PATH" ]; then
  directory=existing
else
  directory=created
fi
${CHECK_HOST}
echo "directory $directory"
exit ${NEEDS_MOUNT}
`;

// Writes the mount's key and the engine's pinned host key where only root reads them, then mounts. sshfs runs as a
// daemon of the host: it talks to the engine machine's sshd, not to the engine, and reconnects when the link drops.
const MOUNT = String.raw`
set -u
umask 077
keys=$KEY_DIR/$EXPORT_ID
mkdir -p -- "$keys" && chmod 700 -- "$KEY_DIR" "$keys" || exit 1
printf '%s\n' "$PRIVATE_KEY" > "$keys/key" || exit 1
printf 'dvx-engine %s\n' "$HOST_KEY" > "$keys/known_hosts" || exit 1
mkdir -p -- "$MOUNT_PATH" || exit 1
options=IdentityFile=$keys/key,IdentitiesOnly=yes,UserKnownHostsFile=$keys/known_hosts,GlobalKnownHostsFile=/dev/null
options=$options,StrictHostKeyChecking=yes,HostKeyAlias=dvx-engine,BatchMode=yes,port=$PORT
options=$options,reconnect,ServerAliveInterval=15,ServerAliveCountMax=4,ConnectTimeout=20
# curve25519: the default sntrup761 hybrid key exchange costs ~0.2 s of CPU per mount. AES-GCM runs on AES-NI and
# outpaces chacha20 on most servers; compression only slows a LAN down.
options=$options,KexAlgorithms=curve25519-sha256,Ciphers=aes128-gcm@openssh.com,Compression=no
options=$options,allow_other,default_permissions,fsname=$FS_NAME
if [ -n "$READ_ONLY" ]; then options=$options,ro; fi
sshfs -o "$options" -- "root@$ENGINE:/data" "$MOUNT_PATH" || exit 1
`;

// Unmounts, naming the processes that keep the mount busy (a scan of /proc, as for bind mounts); once unmounted, the
// mount's key goes from the host, and the export's id is printed for the engine to revoke the key on its side.
// Once nothing is mounted there, REMOVE_DIR removes the mount directory if it is empty (rmdir removes nothing else).
const DETACH = String.raw`
set -u
target=$(realpath -m -- "$MOUNT_PATH")
${HOLDERS_FUNCTION}for round in 1 2 3 4 5 6 7 8; do
  source=$(findmnt -rn -o SOURCE --mountpoint "$target" 2>/dev/null | tail -n 1)
  if [ -z "$source" ]; then
    if [ -n "$REMOVE_DIR" ] && [ -d "$target" ] && [ ! -L "$MOUNT_PATH" ]; then rmdir -- "$target" 2>/dev/null || true; fi
    exit 0
  fi
  case "$source" in dvx-sftp:*) id=${'$'}{source#dvx-sftp:} ;; *) id= ;; esac
  if ! out=$(umount -- "$target" 2>&1); then
    case "$out" in
      *busy*) holders; exit ${BUSY} ;;
      *"not connected"*) umount -l -- "$target" || exit 1 ;;
      *) echo "$out" >&2; exit 1 ;;
    esac
  fi
  if [ -n "$id" ]; then
    case "$id" in *[!0-9a-f]*) ;; *) rm -rf -- "${'$'}{KEY_DIR:?}/$id"; echo "export $id" ;; esac
  fi
done
echo "$target is still mounted after 8 unmounts" >&2
exit 1
`;

// For each path of $MOUNT_PATHS (one a line): 1 when an sshfs mount of dvx is there and answering, else 0.
const ATTACHED_AMONG = String.raw`
while IFS= read -r p; do
  if [ -z "$p" ]; then echo 0; continue; fi
  t=$(realpath -m -- "$p")
  source=$(findmnt -rn -o SOURCE --mountpoint "$t" 2>/dev/null | tail -n 1)
  case "$source" in
    dvx-sftp:*) if timeout 10 stat -c %i -- "$t" >/dev/null 2>&1; then echo 1; else echo 0; fi ;;
    *) echo 0 ;;
  esac
done <<EOF_PATHS
$MOUNT_PATHS
EOF_PATHS
`;

// Attached: mounted here (as sshfs) and answering.
const IS_ATTACHED = String.raw`
source=$(findmnt -rn -o SOURCE --mountpoint "$MOUNT_PATH" 2>/dev/null | tail -n 1)
case "$source" in dvx-sftp:*) timeout 10 stat -c %i -- "$MOUNT_PATH" >/dev/null 2>&1 ;; *) exit 1 ;; esac
`;

/**
 * Mounts engine storage on a host over the network with sshfs, for hosts that share nothing with the engine. The engine
 * machine serves each mount its own dataset through {@link SftpServer}: a key pair made for that mount (the host keeps
 * the private key in a root-only file, the server accepts it only from that host's address and only for a session
 * confined to that dataset), so that a host reaches no other dataset through what it was given. The SFTP session runs
 * as the owner asked for, so files written through the mount belong to them on the engine, and the host sees the
 * numeric owners as they are (as with a bind mount). The mount depends on the engine machine's sshd, not on the
 * engine process: it keeps working while the engine is stopped or restarted. Needs sshfs and FUSE on the host and
 * root as the login user.
 */
export class SshfsMountTransport implements MountTransport {
  readonly kind = 'sshfs' as const;
  readonly #options: Required<Omit<SshfsMountTransportOptions, 'engineAddress' | 'logger'>> & {
    engineAddress?: string;
  };
  readonly #logger: Logger;

  constructor(options: SshfsMountTransportOptions) {
    const { logger, ...rest } = options;
    this.#options = { ...SSHFS_MOUNT_DEFAULTS, ...rest };
    this.#logger = logger ?? silentLogger;
  }

  /** The id of the export that serves `sourcePath` at `mountPath` on `host`. */
  static exportId(host: string, sourcePath: string, mountPath: string): string {
    return createHash('sha256').update(`${host}\0${sourcePath}\0${mountPath}`).digest('hex').slice(0, 24);
  }

  async attach(request: AttachRequest): Promise<AttachResult> {
    const host = request.connection.address.name;
    const details = { host, mountPath: request.mountPath, sourcePath: request.sourcePath };
    const source = await stat(request.sourcePath).catch(() => undefined);
    if (!source?.isDirectory()) {
      throw new StorageError({
        code: 'MOUNT_FAILED',
        message: `${request.sourcePath} does not exist on the engine machine: there is nothing to serve.`,
        details,
      });
    }
    // The owner is set on the engine side, where the files are; the host sees it through the mount.
    const owner = request.ownership;
    if (owner && (source.uid !== owner.uid || source.gid !== owner.gid))
      await storageWork(`give ${request.sourcePath} its owner`, () => chown(request.sourcePath, owner.uid, owner.gid));

    const id = SshfsMountTransport.exportId(host, request.sourcePath, request.mountPath);
    const variables = {
      MOUNT_PATH: request.mountPath,
      FS_NAME: fsName(id),
      READ_ONLY: request.readOnly ? '1' : '',
    };
    const probe = await this.#options.runBash(request.connection, PROBE, {
      variables,
      timeoutMs: this.#options.timeoutMs,
    });
    let createdDirectory: boolean | null = null;
    if (probe.exitCode === ATTACHED) {
      if ((await this.#options.server.exportSource(id)) === request.sourcePath) return { createdDirectory };
      // Mounted, but the engine machine no longer serves it (its SFTP directory was reset): mount it afresh.
      await this.#options.runBash(request.connection, 'umount -l -- "$MOUNT_PATH"', {
        variables,
        timeoutMs: this.#options.timeoutMs,
      });
    } else if (probe.exitCode !== NEEDS_MOUNT) this.#probeFailed(probe, details);
    else {
      const directory = /^directory (\S+)$/m.exec(probe.stdout)?.[1];
      createdDirectory = directory === 'created' ? true : directory === 'existing' ? false : null;
    }

    // $SSH_CONNECTION: "<engine address> <port> <host address> <port>", as the host sees the engine's connection.
    const connection = /^connection (\S+) \S+ (\S+) \S+$/m.exec(probe.stdout);
    const engine = this.#options.engineAddress ?? connection?.[1];
    if (engine === undefined) {
      throw new StorageError({
        code: 'MOUNT_FAILED',
        message: `Could not tell at which address ${host} reaches the engine machine (no SSH_CONNECTION there).`,
        action: 'Configure the address hosts reach the engine machine at (engineAddress of the sshfs transport).',
        details,
      });
    }
    await this.#options.server.start();
    const { privateKey } = await this.#options.server.authorize({
      id,
      sourcePath: request.sourcePath,
      uid: owner?.uid ?? 0,
      gid: owner?.gid ?? 0,
      readOnly: request.readOnly === true,
      // The host's own address on the engine's connection: the key is accepted from there only.
      ...(this.#options.engineAddress === undefined && connection?.[2] ? { from: connection[2] } : {}),
      comment: `${host}:${request.mountPath}`,
    });
    const mount = await this.#options.runBash(request.connection, MOUNT, {
      variables: {
        ...variables,
        KEY_DIR: this.#options.hostKeyDir,
        EXPORT_ID: id,
        PRIVATE_KEY: privateKey.trim(),
        HOST_KEY: await this.#options.server.hostKey(),
        PORT: String(this.#options.server.port),
        ENGINE: engine.includes(':') ? `[${engine}]` : engine,
      },
      timeoutMs: this.#options.timeoutMs,
    });
    if (mount.exitCode !== 0) {
      await this.#options.server.revoke(id);
      throw new StorageError({
        code: 'MOUNT_FAILED',
        message: `Mounting ${request.sourcePath} at ${request.mountPath} on ${host} with sshfs failed: ${mount.stderr.trim() || `exit code ${mount.exitCode}`}`,
        action: `Check that ${host} reaches the engine machine at ${engine} port ${this.#options.server.port} (SFTP).`,
        output: mount.stderr,
        details: { ...details, engineAddress: engine, port: this.#options.server.port },
      });
    }
    this.#logger.info({ host, export: id, mountPath: request.mountPath }, 'sshfs mount attached');
    return { createdDirectory };
  }

  async checkHost(connection: MountHostConnection): Promise<void> {
    const result = await this.#options.runBash(connection, CHECK_HOST, {
      variables: {},
      timeoutMs: this.#options.timeoutMs,
    });
    if (result.exitCode !== 0)
      this.#probeFailed(result, { host: connection.address.name, mountPath: '', sourcePath: '' });
  }

  #probeFailed(result: { exitCode: number; stderr: string }, details: Record<string, string>): never {
    const { host, mountPath } = details;
    if (result.exitCode === OTHER_MOUNT) {
      const other = result.stderr.trim();
      throw new StorageError({
        code: 'MOUNT_FAILED',
        message: `${mountPath} on ${host} already has something else mounted: ${other}.`,
        action: 'Unmount it, or give this object another mount path.',
        details: { ...details, mounted: other },
      });
    }
    if (result.exitCode === NOT_EMPTY) {
      throw new StorageError({
        code: 'MOUNT_FAILED',
        message: `${mountPath} on ${host} is a directory that already holds files: mounting over it would hide them.`,
        action: 'Give this object the path of a new or empty directory (or empty that one), then retry.',
        details,
      });
    }
    if (result.exitCode === NO_SSHFS) {
      throw new HostError({
        code: 'HOST_CAPABILITY_MISSING',
        message: `${host} has no sshfs, which the sshfs transport mounts engine storage with.`,
        action:
          'Install the sshfs package on the host (Debian/Ubuntu: apt-get install sshfs; RHEL: dnf install fuse-sshfs).',
        host,
        details: { package: 'sshfs' },
      });
    }
    if (result.exitCode === NO_FUSE) {
      throw new HostError({
        code: 'HOST_CAPABILITY_MISSING',
        message: `${host} has no /dev/fuse, which sshfs needs.`,
        action: 'Load the fuse kernel module on the host (modprobe fuse) and install the fuse3 package, then retry.',
        host,
        details: { package: 'fuse3' },
      });
    }
    throw new StorageError({
      code: 'MOUNT_FAILED',
      message: `Checking ${mountPath} on ${host} failed: ${result.stderr.trim() || `exit code ${result.exitCode}`}`,
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
        variables: {
          MOUNT_PATH: request.mountPath,
          KEY_DIR: this.#options.hostKeyDir,
          REMOVE_DIR: request.removeDirectory ? '1' : '',
        },
        timeoutMs: this.#options.timeoutMs,
      });
      for (const [, id] of result.stdout.matchAll(/^export ([0-9a-f]+)$/gm))
        if (id) await this.#options.server.revoke(id);
      if (result.exitCode === 0) return;
      if (result.exitCode !== BUSY) {
        throw unmountFailedError(host, request.mountPath, result);
      }
      holders = parseHolders(result.stdout);
    }
    throw mountBusyError(host, request.mountPath, holders, this.#options.busyRetries + 1);
  }

  async attachedAmong(request: AttachedAmongRequest): Promise<Set<string>> {
    if (request.mountPaths.length === 0) return new Set();
    const result = await this.#options.runBash(request.connection, ATTACHED_AMONG, {
      variables: { MOUNT_PATHS: request.mountPaths.join('\n') },
      timeoutMs: this.#options.timeoutMs,
    });
    const answers = result.stdout.split('\n').filter((line) => line === '0' || line === '1');
    if (result.exitCode !== 0 || answers.length !== request.mountPaths.length) {
      const host = request.connection.address.name;
      throw new StorageError({
        code: 'MOUNT_FAILED',
        message: `Listing the sshfs mounts of ${host} failed: ${result.stderr.trim() || `exit code ${result.exitCode}`}`,
        output: result.stderr,
        details: { host },
      });
    }
    return new Set(request.mountPaths.filter((_path, i) => answers[i] === '1'));
  }

  async isAttached(request: Omit<DetachRequest, 'removeDirectory'>): Promise<boolean> {
    const result = await this.#options.runBash(request.connection, IS_ATTACHED, {
      variables: { MOUNT_PATH: request.mountPath },
      timeoutMs: this.#options.timeoutMs,
    });
    return result.exitCode === 0;
  }
}
