import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { DvxError } from '../../errors/index.js';
import { checkRedis } from '../../model/check-redis.js';
import { startEmbeddedRedis, stopEmbeddedRedis } from '../../model/embedded-redis.js';
import { createRedisClient } from '../../model/redis-clients.js';
import { parseRedisUrl } from '../../model/redis-target.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { makeTempDir } from '../harness/temp-dir.js';

describe('parseRedisUrl', () => {
  it('understands tcp, tls and unix URLs', () => {
    expect(parseRedisUrl('redis://:s3cret@10.0.0.1:6380/2')).toEqual({
      kind: 'tcp',
      host: '10.0.0.1',
      port: 6380,
      db: 2,
      tls: false,
      password: 's3cret',
    });
    expect(parseRedisUrl('rediss://h')).toMatchObject({ kind: 'tcp', host: 'h', port: 6379, tls: true });
    expect(parseRedisUrl('unix:///run/redis.sock?db=3')).toEqual({ kind: 'unix', path: '/run/redis.sock', db: 3 });
  });
  it('refuses what is not a Redis URL, saying what to give', () => {
    expect(() => parseRedisUrl('localhost:6379')).toThrow(/Unsupported Redis URL scheme|not a Redis URL/);
    expect(() => parseRedisUrl('http://x')).toThrow(/Unsupported Redis URL scheme "http:"/);
  });
});

describe('checkRedis against real servers', () => {
  const servers: TestRedis[] = [];
  afterAll(async () => Promise.all(servers.map((s) => s.remove())));

  it('accepts a durable server', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const facts = await checkRedis(server.client(), server.url);
    expect(facts).toMatchObject({ aofEnabled: true, maxmemoryPolicy: 'noeviction', appendfsync: 'everysec' });
  });

  it('refuses a server without AOF and with eviction, naming both problems and the fix', async () => {
    const server = await startRedisServer({ config: { appendonly: 'no', 'maxmemory-policy': 'allkeys-lru' } });
    servers.push(server);
    const caught = await checkRedis(server.client(), server.url).catch((e: unknown) => e);
    expect(caught).toBeInstanceOf(DvxError);
    const error = caught as DvxError;
    expect(error.code).toBe('REDIS_MISCONFIGURED');
    expect(error.message).toContain('append-only persistence (AOF) is off');
    expect(error.message).toContain('maxmemory-policy is allkeys-lru');
    expect(error.action).toContain('maxmemory-policy noeviction');
    expect(error.action).toContain('appendonly yes');
  });
});

describe('embedded redis', () => {
  const dirs: { path: string; remove(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) {
      await stopEmbeddedRedis(dir.path);
      await dir.remove();
    }
  });

  it('starts a durable server under the data dir, reuses it on a second start, and keeps data across a restart', async () => {
    const dir = await makeTempDir('embedded');
    dirs.push(dir);
    const first = await startEmbeddedRedis({ dataDir: dir.path });
    expect(first.reused).toBe(false);
    expect(first.target.kind).toBe('unix');
    const client = createRedisClient(first.target, 'store');
    await checkRedis(client, 'embedded');
    await client.set('dvx:test', 'kept');
    client.disconnect();

    const second = await startEmbeddedRedis({ dataDir: dir.path });
    expect(second).toMatchObject({ reused: true, pid: first.pid });

    await stopEmbeddedRedis(dir.path);
    const third = await startEmbeddedRedis({ dataDir: dir.path });
    expect(third.reused).toBe(false);
    expect(third.pid).not.toBe(first.pid);
    const again = new Redis({ path: (third.target as { path: string }).path });
    expect(await again.get('dvx:test')).toBe('kept');
    again.disconnect();
  });
});
