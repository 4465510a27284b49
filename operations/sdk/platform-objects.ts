// The platform objects a plugin receives: plain JSON built by the engine for each operation.

/** A host the engine reaches, as plugins see it. */
export interface RemoteEnvironment {
  name: string;
  /** Opaque reference the engine resolves back to the environment. */
  reference: string;
  host: {
    hostname: string;
    /** Directory for the plugin's per-object scratch files. */
    scratchPath: string;
  };
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
  /** A sub-directory of the storage mounted instead of its root (virtual sources only). */
  sharedPath: string | null;
}

/** Who owns the files of the mounted storage. */
export interface OwnershipSpecification {
  uid: number;
  gid: number;
}

/** A mount as `mountSpecification` asks for it: `sharedPath` may be left out. */
export interface MountRequest {
  /** The environment to mount on: one the plugin was given (e.g. `stagedSource.stagedConnection.environment`). */
  remoteEnvironment: RemoteEnvironment;
  /** Absolute path on that host. */
  mountPath: string;
  /** Virtual sources only: mount this sub-directory of the storage. @defaultValue null (the whole storage) */
  sharedPath?: string | null;
}

/**
 * What `mountSpecification` returns: where the engine mounts storage, and who owns it. A staged source has exactly one
 * mount and no `sharedPath`; a virtual source has one or more.
 */
export interface MountSpecification {
  mounts: MountRequest[];
  ownershipSpecification?: OwnershipSpecification | null;
}

/** A staged dSource: ingestion goes through storage mounted on a staging host. */
export interface StagedSource<P = Record<string, unknown>> {
  guid: string;
  sourceConnection: RemoteConnection;
  stagedConnection: RemoteConnection;
  parameters: P;
  /** The staging mount. */
  mount: Mount;
}

/** A direct dSource: the engine copies the data itself (`runSync` in `linked.preSnapshot`). */
export interface DirectSource<P = Record<string, unknown>> {
  guid: string;
  connection: RemoteConnection;
  parameters: P;
}

/** A VDB (virtual source). */
export interface VirtualSource<P = Record<string, unknown>> {
  guid: string;
  connection: RemoteConnection;
  parameters: P;
  /** Its mounts, in the order of its mount specification. */
  mounts: Mount[];
}

/** A staged source as `linked.mountSpecification` gets it: its mount is not decided yet. */
export type UnmountedStagedSource<P = Record<string, unknown>> = Omit<StagedSource<P>, 'mount'> & { mount?: Mount };
/** A virtual source as `virtual.mountSpecification` gets it: its mounts are not decided yet. */
export type UnmountedVirtualSource<P = Record<string, unknown>> = Omit<VirtualSource<P>, 'mounts'> & {
  mounts?: Mount[];
};

export type Status = 'ACTIVE' | 'INACTIVE';
