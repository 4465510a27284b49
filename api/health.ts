import type { Redis } from 'ioredis';
import { DvxError } from '../errors/index.js';
import type { StorageBackend } from '../storage/index.js';

/** One dependency's state as /health reports it. */
export interface DependencyHealth {
  status: 'up' | 'down';
  /** What is wrong, when down. */
  error?: string;
  /** What to do about it, when down. */
  action?: string;
  /** Facts worth showing (free bytes, pid, restarts...). */
  details?: Record<string, unknown>;
}

/** A dependency check; it should answer within a second or two (it is cut off at {@link PROBE_TIMEOUT_MS}). */
export type HealthProbe = () => DependencyHealth | Promise<DependencyHealth>;

/** What /health and the request gate are given. */
export interface HealthInputs {
  /** Checks by dependency name (`redis`, `storage`, `workers`). */
  probes: Record<string, HealthProbe>;
  /** Null while requests can be served; else why not (answered with 503 before anything is read or written). */
  unavailable(): DvxError | null;
}

/** A probe that has not answered by then counts as down. */
export const PROBE_TIMEOUT_MS = 2_000;

/** The /health body: `status: 'ok'` (HTTP 200) when every dependency is up, else `'unavailable'` (HTTP 503). */
export interface HealthReport {
  status: 'ok' | 'unavailable';
  dependencies: Record<string, DependencyHealth>;
}

async function probeWithin(probe: HealthProbe, ms: number): Promise<DependencyHealth> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<DependencyHealth>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'down', error: `did not answer within ${ms} ms` }), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(probe), late]);
  } catch (error) {
    return { status: 'down', error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

export async function healthReport(inputs: HealthInputs): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(inputs.probes).map(
      async ([name, probe]) => [name, await probeWithin(probe, PROBE_TIMEOUT_MS)] as const,
    ),
  );
  return {
    status: entries.every(([, result]) => result.status === 'up') ? 'ok' : 'unavailable',
    dependencies: Object.fromEntries(entries),
  };
}

/** Redis is up when the client is connected and answers PING. */
export function redisProbe(client: Redis, extra: () => Partial<DependencyHealth> = () => ({})): HealthProbe {
  return async () => {
    if (client.status !== 'ready') return { status: 'down', error: `connection is ${client.status}`, ...extra() };
    await client.ping();
    return { status: 'up', ...extra() };
  };
}

/** The storage pool is up when it reports its usage. */
export function storageProbe(storage: StorageBackend): HealthProbe {
  return async () => {
    const usage = await storage.usage();
    return {
      status: 'up',
      details: { backend: storage.kind, freeBytes: usage.freeBytes, totalBytes: usage.totalBytes },
    };
  };
}

/** The error API requests get while the Redis connection is down: nothing is read or written. */
export function redisUnavailableError(describe: string, action: string): DvxError {
  return new DvxError({
    code: 'REDIS_UNAVAILABLE',
    message: `Redis (${describe}) is unreachable, so the engine cannot serve this request; nothing was changed.`,
    action,
    details: { dependency: 'redis' },
  });
}

/** Inputs for an engine whose only known dependencies are its Redis client and storage. */
export function defaultHealthInputs(redis: Redis, storage: StorageBackend): HealthInputs {
  return {
    probes: { redis: redisProbe(redis), storage: storageProbe(storage) },
    unavailable: () =>
      redis.status === 'ready'
        ? null
        : redisUnavailableError(
            "the engine's Redis",
            'Check that redis-server is running, then send the request again.',
          ),
  };
}
