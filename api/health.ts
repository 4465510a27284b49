import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { DvxError, formatBytes } from '../errors/index.js';
import type { TokenStore } from '../model/token-store.js';
import type { PoolSpace } from '../storage/index.js';

/**
 * One dependency's state as /health reports it: `up`; `warning` when it works but needs attention soon (the storage
 * pool below its free-space floor: new snapshots and clones are refused, what exists keeps working); `down`.
 */
export interface DependencyHealth {
  status: 'up' | 'warning' | 'down';
  /** What is wrong, when down or warning. */
  error?: string;
  /** What to do about it, when down or warning. */
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

/**
 * The /health body: `status: 'unavailable'` (HTTP 503) when a dependency is down, else `'warning'` (HTTP 200) when one
 * warns, else `'ok'` (HTTP 200). A warning is not a 503: the engine serves every request it can, and a load balancer
 * or supervisor must not take it out of service or restart it for a full pool.
 */
export interface HealthReport {
  status: 'ok' | 'warning' | 'unavailable';
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
  const statuses = entries.map(([, result]) => result.status);
  return {
    status: statuses.includes('down') ? 'unavailable' : statuses.includes('warning') ? 'warning' : 'ok',
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

/** The storage pool is up when it reports its usage; `warning` while its free space is below the floor. */
export function storageProbe(space: PoolSpace): HealthProbe {
  return async () => {
    const report = await space.report();
    const details = {
      backend: space.storage.kind,
      freeBytes: report.freeBytes,
      totalBytes: report.totalBytes,
      floorBytes: report.floorBytes,
      floor: report.floor,
      belowFloor: report.belowFloor,
    };
    if (!report.belowFloor) return { status: 'up', details };
    return {
      status: 'warning',
      error: `${formatBytes(report.freeBytes)} free of ${formatBytes(report.totalBytes)}, below the floor of ${formatBytes(report.floorBytes)} (${report.floor}): new snapshots, provisions and syncs are refused`,
      action: 'Delete snapshots (dvx snapshot rm ID) or VDBs (dvx vdb rm NAME) you no longer need, or grow the pool.',
      details,
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
export function defaultHealthInputs(redis: Redis, space: PoolSpace): HealthInputs {
  return {
    probes: { redis: redisProbe(redis), storage: storageProbe(space) },
    unavailable: () =>
      redis.status === 'ready'
        ? null
        : redisUnavailableError(
            "the engine's Redis",
            'Check that redis-server is running, then send the request again.',
          ),
  };
}

/** The report without each dependency's details: what /health shows a caller without a valid token. */
export function withoutDetails(report: HealthReport): HealthReport {
  return {
    status: report.status,
    dependencies: Object.fromEntries(
      Object.entries(report.dependencies).map(([name, { details: _details, ...rest }]) => [name, rest]),
    ),
  };
}

/** Whether a /health request carries a valid bearer token (never asked while Redis, which holds tokens, is down). */
export async function isTokenHolder(
  request: FastifyRequest,
  tokens: TokenStore,
  health: HealthInputs,
): Promise<boolean> {
  const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!token || health.unavailable()) return false;
  try {
    return (await tokens.verify(token)) !== null;
  } catch {
    return false;
  }
}
