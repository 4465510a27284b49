export type { StorageBackend, StorageUsage } from './storage-backend.js';
export type {
  AttachRequest,
  AttachResult,
  DetachRequest,
  HostCommandResult,
  MountHostConnection,
  MountTransport,
  RunHostScript,
  RunHostScriptOptions,
} from './mount-transport.js';
export { BtrfsBackend, type BtrfsBackendOptions } from './btrfs-backend.js';
export { ReflinkBackend, type ReflinkBackendOptions } from './reflink-backend.js';
export { BindMountTransport, BIND_MOUNT_DEFAULTS, type BindMountTransportOptions } from './bind-mount-transport.js';
export { type MountHolder } from './mount-holders.js';
export { SftpServer, SFTP_SERVER_DEFAULTS, type SftpExport, type SftpServerOptions } from './sftp-server.js';
export { SshfsMountTransport, SSHFS_MOUNT_DEFAULTS, type SshfsMountTransportOptions } from './sshfs-mount-transport.js';
export {
  attachBtrfsPool,
  detachBtrfsPool,
  initBtrfsPool,
  isPoolMounted,
  readStorageConfig,
  storageConfigPath,
  MIN_POOL_SIZE_BYTES,
  type BtrfsPoolConfig,
  type InitBtrfsPoolOptions,
  type ReflinkStorageConfig,
  type StorageConfig,
} from './btrfs-pool.js';
export {
  backendFor,
  canMakeBtrfsPool,
  initStorage,
  openStorage,
  DEFAULT_POOL_SIZE_BYTES,
  type InitStorageOptions,
  type OpenStorageOptions,
} from './open-storage.js';
export { localMountPoints, localMounts, mountsUnder, mountsUsing, type MountEntry } from './local-mounts.js';
export { parseSize } from './parse-size.js';
export {
  DEFAULT_FREE_SPACE_FLOOR,
  FREE_SPACE_FLOOR_ENV,
  describeFloor,
  floorBytesOf,
  parseFreeSpaceFloor,
  type FreeSpaceFloor,
} from './free-space-floor.js';
export { measureAgainstFloor, PoolSpace, type PoolSpaceReport } from './pool-space.js';
export { checkStorageId } from './storage-id.js';
