// What the plugin-invocation benchmarks hand a no-op `virtual.start`: platform services it never calls, its arguments.
import type { PlatformServices } from '../../operations/index.js';

/** Platform services for an operation that makes no platform call. */
export const UNUSED_SERVICES: PlatformServices = {
  runBash: () => Promise.reject(new Error('unused')),
  runExpect: () => Promise.reject(new Error('unused')),
  runSync: () => Promise.reject(new Error('unused')),
  retrieveCredentials: () => Promise.reject(new Error('unused')),
  log: () => undefined,
};

const connection = {
  environment: { name: 'h', reference: 'env', host: { hostname: 'h', scratchPath: '/tmp' } },
  user: { name: 'root', reference: 'env' },
};

/** The arguments of `virtual.start` for a VDB mounted at /mnt. */
export const NOOP_START_ARGS = {
  virtualSource: { guid: 'vdb', connection, parameters: { mountLocation: '/mnt' }, mounts: [] },
  repository: { name: 'r', root: '/' },
  sourceConfig: { name: 's', path: '/mnt' },
};
