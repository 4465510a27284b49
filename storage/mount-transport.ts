import type { HostConnection } from '../hosts/index.js';

/** Attach engine storage on a host. */
export interface AttachRequest {
  connection: HostConnection;
  /** Engine-local path to expose. */
  sourcePath: string;
  /** Where the plugin wants it on the host. */
  mountPath: string;
  /** Owner the plugin asked for (applied to the mounted root). */
  ownership?: { uid: number; gid: number } | null;
  readOnly?: boolean;
}

export interface DetachRequest {
  connection: HostConnection;
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
}
