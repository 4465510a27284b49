/** What a command or script on a host produced. */
export interface HostCommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * What a mount transport needs of a host connection. storage/ imports nothing from hosts/ (CONTRIBUTING.md): hosts'
 * `HostConnection` satisfies this structurally.
 */
export interface MountHostConnection {
  readonly address: { readonly name: string };
  exec(
    command: string,
    options?: { stdin?: string | Buffer; timeoutMs?: number; signal?: AbortSignal },
  ): Promise<HostCommandResult>;
}

/** Options of a {@link RunHostScript} call. */
export interface RunHostScriptOptions {
  /** Environment variables of the script, passed as data (never pasted into its text). */
  variables?: Record<string, string>;
  /** Kill the script and fail after this long. */
  timeoutMs?: number;
}

/** Runs a bash script on a host as its login user, with variables as data: hosts' `runBash` is one. */
export type RunHostScript = (
  connection: MountHostConnection,
  script: string,
  options: RunHostScriptOptions,
) => Promise<HostCommandResult>;

/** Attach engine storage on a host. */
export interface AttachRequest {
  connection: MountHostConnection;
  /** Engine-local path to expose. */
  sourcePath: string;
  /** Where the plugin wants it on the host. */
  mountPath: string;
  /** Owner the plugin asked for (applied to the mounted root). */
  ownership?: { uid: number; gid: number } | null;
  readOnly?: boolean;
}

/** What an attach did to the mount path. */
export interface AttachResult {
  /**
   * `true` when the transport made the mount directory (it did not exist), `false` when the directory was already
   * there (a user's: never removed), `null` when the path was already attached (a repeated attach learns nothing).
   */
  createdDirectory: boolean | null;
}

export interface DetachRequest {
  connection: MountHostConnection;
  mountPath: string;
  /**
   * Remove the mount directory once unmounted, if it is empty. Give it only for a directory the transport made
   * (`AttachResult.createdDirectory`), never for one that was there before. @defaultValue false
   */
  removeDirectory?: boolean;
}

/**
 * How engine storage reaches a host: `bind` for hosts that share the engine's filesystem, `sshfs` for hosts that share
 * nothing with it (docs/remote-hosts.md; an `nfs` transport is planned there). Every call is idempotent, as steps are
 * delivered at least once. `test/storage/mount-transport.conformance.ts` is the suite every transport passes.
 */
export interface MountTransport {
  readonly kind: 'bind' | 'sshfs';
  /**
   * Makes the mount directory (and its parents) if missing, and says whether it did. Attaching what is already
   * attached there is a no-op; something else mounted there is MOUNT_FAILED naming it.
   */
  attach(request: AttachRequest): Promise<AttachResult>;
  /**
   * Nothing mounted is a no-op (but for `removeDirectory`). A busy mount is retried, then MOUNT_BUSY naming the
   * processes holding it.
   */
  detach(request: DetachRequest): Promise<void>;
  isAttached(request: Omit<DetachRequest, 'removeDirectory'>): Promise<boolean>;
  /** Which of these paths have something attached, asked of the host in one round trip (a health round's many mounts). */
  attachedAmong(request: AttachedAmongRequest): Promise<Set<string>>;
  /** Checks that a host has what this transport needs; HOST_CAPABILITY_MISSING naming the package to install if not. */
  checkHost?(connection: MountHostConnection): Promise<void>;
}

export interface AttachedAmongRequest {
  connection: MountHostConnection;
  mountPaths: readonly string[];
}
