import { ValidationError } from '../errors/index.js';

/** Where Redis listens: a TCP address or a unix socket. */
export type RedisTarget =
  | { kind: 'tcp'; host: string; port: number; db: number; username?: string; password?: string; tls: boolean }
  | { kind: 'unix'; path: string; db: number; password?: string };

/**
 * Parses `redis://[user:pass@]host:port[/db]`, `rediss://...`, `unix:///path/redis.sock[?db=N]`
 * or `redis+unix:///path`.
 */
export function parseRedisUrl(url: string): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(`"${url}" is not a Redis URL.`, [{ pointer: '', message: 'not a URL' }], {
      action: 'Give a URL such as redis://127.0.0.1:6379 or unix:///var/run/redis/redis.sock.',
    });
  }
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  if (parsed.protocol === 'unix:' || parsed.protocol === 'redis+unix:') {
    const db = Number(parsed.searchParams.get('db') ?? 0);
    return { kind: 'unix', path: decodeURIComponent(parsed.pathname), db, ...(password ? { password } : {}) };
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ValidationError(
      `Unsupported Redis URL scheme "${parsed.protocol}".`,
      [{ pointer: '', message: 'bad scheme' }],
      {
        action: 'Use redis://, rediss:// or unix://.',
      },
    );
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) {
    throw new ValidationError(
      `"${parsed.pathname.slice(1)}" is not a Redis database number.`,
      [{ pointer: '', message: 'bad db' }],
      {
        action: 'Put a database number such as /0 at the end of the URL, or nothing.',
      },
    );
  }
  return {
    kind: 'tcp',
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    db,
    tls: parsed.protocol === 'rediss:',
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(password ? { password } : {}),
  };
}

/** The URL of a target, with any password hidden; for messages and logs. */
export function describeRedisTarget(target: RedisTarget): string {
  return target.kind === 'unix'
    ? `unix://${target.path}`
    : `redis${target.tls ? 's' : ''}://${target.host}:${target.port}/${target.db}`;
}

/** The URL of a target including credentials, for handing to another dvx process. */
export function formatRedisUrl(target: RedisTarget): string {
  if (target.kind === 'unix') return `unix://${target.path}${target.db ? `?db=${target.db}` : ''}`;
  const auth = target.password
    ? `${encodeURIComponent(target.username ?? '')}:${encodeURIComponent(target.password)}@`
    : '';
  return `redis${target.tls ? 's' : ''}://${auth}${target.host}:${target.port}/${target.db}`;
}
