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

export interface DetachRequest {
  connection: MountHostConnection;
  mountPath: string;
}

/**
 * How engine storage reaches a host: `bind` for hosts that share the engine's filesystem, `nfs` (not yet written)
 * for remote ones. Both calls are idempotent, as steps are delivered at least once.
 * `test/storage/mount-transport.conformance.ts` is the suite every transport passes.
 */
export interface MountTransport {
  readonly kind: 'bind' | 'nfs';
  /** Attaching what is already attached there is a no-op; something else mounted there is MOUNT_FAILED naming it. */
  attach(request: AttachRequest): Promise<void>;
  /** Nothing mounted is a no-op. A busy mount is retried, then MOUNT_BUSY naming the processes holding it. */
  detach(request: DetachRequest): Promise<void>;
  isAttached(request: DetachRequest): Promise<boolean>;
  /** Which of these paths have something attached, asked of the host in one round trip (a health round's many mounts). */
  attachedAmong(request: AttachedAmongRequest): Promise<Set<string>>;
}

export interface AttachedAmongRequest {
  connection: MountHostConnection;
  mountPaths: readonly string[];
}
