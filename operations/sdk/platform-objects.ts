/** A host the engine reaches, as plugins see it. */
export interface RemoteEnvironment {
  name: string;
  /** Opaque reference the engine resolves back to the environment. */
  reference: string;
  host: { hostname: string; /** Directory for the plugin's per-object scratch files. */ scratchPath: string };
}

/** The user commands run as on an environment. */
export interface RemoteUser {
  name: string;
  reference: string;
}

/** Where and as whom a platform call runs. */
export interface RemoteConnection {
  environment: RemoteEnvironment;
  user: RemoteUser;
}

/** Engine storage mounted on a host. */
export interface Mount {
  remoteEnvironment: RemoteEnvironment;
  mountPath: string;
  /** A sub-directory of the storage to mount instead of its root (virtual sources only). */
  sharedPath: string | null;
}

export interface OwnershipSpecification {
  uid: number;
  gid: number;
}

/** What mountSpecification returns: where the engine mounts storage, and who owns it. */
export interface MountSpecification {
  mounts: Array<{ remoteEnvironment: RemoteEnvironment; mountPath: string; sharedPath?: string | null }>;
  ownershipSpecification?: OwnershipSpecification | null;
}

/** A staged dSource: ingestion goes through storage mounted on a staging host. */
export interface StagedSource<P = Record<string, unknown>> {
  guid: string;
  sourceConnection: RemoteConnection;
  stagedConnection: RemoteConnection;
  parameters: P;
  /** The staging mount; absent in linked.mountSpecification, which decides it. */
  mount: Mount;
}

/** A direct dSource: the engine copies the data itself (runSync). */
export interface DirectSource<P = Record<string, unknown>> {
  guid: string;
  connection: RemoteConnection;
  parameters: P;
}

/** A VDB. */
export interface VirtualSource<P = Record<string, unknown>> {
  guid: string;
  connection: RemoteConnection;
  parameters: P;
  /** Its mounts; absent in virtual.mountSpecification, which decides them. */
  mounts: Mount[];
}

export type Status = 'ACTIVE' | 'INACTIVE';
