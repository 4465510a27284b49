export type { StorageBackend, StorageUsage } from './storage-backend.js';
export type { AttachRequest, DetachRequest, MountTransport } from './mount-transport.js';
export { BtrfsBackend, type BtrfsBackendOptions } from './btrfs-backend.js';
export { ReflinkBackend, type ReflinkBackendOptions } from './reflink-backend.js';
export { BindMountTransport, BIND_MOUNT_DEFAULTS, type BindMountTransportOptions } from './bind-mount-transport.js';
export { attachBtrfsPool, detachBtrfsPool, initBtrfsPool, isPoolMounted, readStorageConfig, storageConfigPath, type StorageConfig } from './btrfs-pool.js';
export { openStorage, type OpenStorageOptions } from './open-storage.js';
export { parseSize } from './parse-size.js';
export { checkStorageId } from './storage-id.js';
