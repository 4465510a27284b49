import { Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from './redis-target.js';

/**
 * What a client is for. Producers fail fast when Redis is down (API requests get an error at once);
 * workers and the store wait for Redis to come back (a run in flight survives a Redis restart).
 */
export type RedisClientRole = 'producer' | 'worker' | 'store';

/** ioredis options for a target and role. */
export function redisOptions(target: RedisTarget, role: RedisClientRole): RedisOptions {
  const base: RedisOptions =
    target.kind === 'unix'
      ? { path: target.path, db: target.db, ...(target.password ? { password: target.password } : {}) }
      : {
          host: target.host,
          port: target.port,
          db: target.db,
          ...(target.username ? { username: target.username } : {}),
          ...(target.password ? { password: target.password } : {}),
          ...(target.tls ? { tls: {} } : {}),
        };
  const common: RedisOptions = {
    ...base,
    connectionName: `dvx-${role}`,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 2_000),
  };
  if (role === 'producer') return { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
  return { ...common, maxRetriesPerRequest: null };
}

export function createRedisClient(target: RedisTarget, role: RedisClientRole): Redis {
  return new Redis(redisOptions(target, role));
}
