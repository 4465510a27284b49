import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditEntry } from '../../model/audit-log.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { must } from '../harness/must.js';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
});
afterAll(async () => {
  await redis.remove();
});
beforeEach(async () => {
  await client.flushall();
});

const entry = (name: string, status = 202): Omit<AuditEntry, 'id' | 'at'> => ({
  actor: { tokenId: `tok-${name}`, name, role: 'operator', ip: '127.0.0.1' },
  method: 'POST',
  route: '/vdbs/:ref/start',
  params: { ref: 'v1' },
  runId: null,
  status,
  errorCode: null,
});

describe('the audit log stream', () => {
  it('keeps about maxEntries, trimming the oldest', async () => {
    const log = new AuditLog(client, { maxEntries: 100 });
    for (let i = 0; i < 2_000; i += 1) await log.record(entry(`n${i}`));
    const kept = await client.xlen(log.key);
    expect(kept).toBeGreaterThanOrEqual(100);
    expect(kept).toBeLessThan(2_000);
    const [newest] = await log.list({ limit: 1 });
    expect(must(newest, 'newest').actor.name).toBe('n1999');
  });

  it('finds an actor beyond the first page of entries, newest first, and stops at the limit', async () => {
    const log = new AuditLog(client);
    await log.record(entry('rare', 403));
    for (let i = 0; i < 2_500; i += 1) await log.record(entry('busy'));
    await log.record(entry('rare', 201));
    const rare = await log.list({ actor: 'rare', limit: 10 });
    expect(rare.map((e) => e.status)).toEqual([201, 403]);
    expect(await log.list({ actor: 'tok-rare', limit: 1 })).toHaveLength(1);
    expect(await log.list({ actor: 'busy', limit: 1_200 })).toHaveLength(1_200);
    expect(await log.list({ limit: 5 })).toHaveLength(5);
  });

  it('filters by time', async () => {
    const log = new AuditLog(client);
    await log.record(entry('before'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const cut = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await log.record(entry('after'));
    const since = await log.list({ sinceMs: cut });
    expect(since.map((e) => e.actor.name)).toEqual(['after']);
    expect(new Date(must(since[0], 'since[0]').at).getTime()).toBeGreaterThanOrEqual(cut);
  });
});
