import type { Redis } from 'ioredis';
import { DvxError } from '../errors/index.js';

/** What dvx found out about a Redis server. */
export interface RedisServerFacts {
  version: string;
  aofEnabled: boolean;
  appendfsync: string | null;
  maxmemoryPolicy: string;
}

/** Lowest Redis version dvx supports: BullMQ 6 needs 6.2. */
export const MINIMUM_REDIS_VERSION = '6.2.0';

function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((part) => Number.parseInt(part, 10) || 0);
  const pb = b.split('.').map((part) => Number.parseInt(part, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

/** Reads version, AOF and eviction settings, through INFO so it works where CONFIG is disabled. */
export async function readRedisFacts(client: Redis): Promise<RedisServerFacts> {
  const info = parseInfo(String(await client.info()));
  let appendfsync: string | null = null;
  try {
    const reply = (await client.config('GET', 'appendfsync')) as string[];
    appendfsync = reply[1] ?? null;
  } catch {
    appendfsync = null;
  }
  return {
    version: info.get('redis_version') ?? '0',
    aofEnabled: info.get('aof_enabled') === '1',
    appendfsync,
    maxmemoryPolicy: info.get('maxmemory_policy') ?? 'unknown',
  };
}

/**
 * Refuses a Redis that would lose what users stored: too old for BullMQ 6, no AOF, or evicting keys.
 * The error says what is wrong and the commands that fix it.
 */
export async function checkRedis(client: Redis, describe: string): Promise<RedisServerFacts> {
  const facts = await readRedisFacts(client);
  const problems: string[] = [];
  const fixes: string[] = [];
  if (compareVersions(facts.version, MINIMUM_REDIS_VERSION) < 0) {
    problems.push(`it runs Redis ${facts.version}, older than ${MINIMUM_REDIS_VERSION}`);
    fixes.push(`upgrade Redis to ${MINIMUM_REDIS_VERSION} or newer`);
  }
  if (!facts.aofEnabled) {
    problems.push('append-only persistence (AOF) is off, so a Redis restart would lose runs and jobs');
    fixes.push("set 'appendonly yes' and 'appendfsync everysec' in redis.conf (or CONFIG SET appendonly yes)");
  }
  if (facts.maxmemoryPolicy !== 'noeviction') {
    problems.push(`maxmemory-policy is ${facts.maxmemoryPolicy}, so Redis may evict dvx's records and jobs`);
    fixes.push("set 'maxmemory-policy noeviction' in redis.conf (or CONFIG SET maxmemory-policy noeviction)");
  }
  if (problems.length > 0) {
    throw new DvxError({
      code: 'REDIS_MISCONFIGURED',
      message: `Redis at ${describe} cannot be used by dvx: ${problems.join('; ')}.`,
      action: `${fixes.map((fix) => fix.charAt(0).toUpperCase() + fix.slice(1)).join('. ')}. Or start dvx without --redis to use its embedded Redis.`,
      details: { ...facts },
    });
  }
  return facts;
}
