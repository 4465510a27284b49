import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../model/event-log.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { setUpDsource, succeeded } from './fixture-setup.js';
import { must } from '../harness/must.js';

let engine: EngineFixture;
let dsourceId: string;
let environments: string[] = [];

beforeAll(async () => {
  engine = await startEngineFixture({ events: { maxLength: 10_000 } });
  ({ dsourceId, environments } = await setUpDsource(engine, 'auto-ds'));
}, 180_000);
afterAll(async () => engine?.stop(), 120_000);

async function eventsAfter(after: string | null): Promise<StoredEvent[]> {
  const query = after ? `?after=${after}&limit=1000` : '?limit=1000';
  return (await engine.client.get<{ events: StoredEvent[] }>(`/events${query}`)).events;
}

async function lastEventId(): Promise<string | null> {
  const redis = new Redis(engine.redis.url);
  try {
    const [entry] = await redis.xrevrange('dvx:events', '+', '-', 'COUNT', 1);
    return entry?.[0] ?? null;
  } finally {
    redis.disconnect();
  }
}

describe('the event stream', () => {
  it('records a provision, a failed run and a delete as run and status events, read from a position', async () => {
    const start = await lastEventId();
    const provision = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'events-vdb',
      source: dsourceId,
      environment: environments[2],
      parameters: { mountLocation: join(engine.dir, 'mnt', 'events-vdb') },
    });
    await succeeded(engine, provision);
    const vdbId = provision.vdb.id;
    let events = await eventsAfter(start);
    const mine = (list: StoredEvent[]) => list.filter((event) => event.objectId === vdbId);
    expect(mine(events).map((event) => [event.type, event.from, event.to])).toEqual([
      ['vdb.status', null, 'PROVISIONING'],
      ['run.started', undefined, undefined],
      ['vdb.status', 'PROVISIONING', 'READY'],
      ['run.succeeded', undefined, undefined],
    ]);
    expect(mine(events)[1]).toMatchObject({ runId: provision.run.id, kind: 'provision', objectType: 'vdb' });
    // Ids increase, and reading after one gives exactly what follows it.
    const ids = events.map((event) => event.id);
    const idParts = (id: string) => id.split('-').map(Number) as [number, number];
    const order = (a: string, b: string) => idParts(a)[0] - idParts(b)[0] || idParts(a)[1] - idParts(b)[1];
    expect([...ids].sort(order)).toEqual(ids);
    const middle = must(events[1], 'events[1]').id;
    expect((await eventsAfter(middle)).map((event) => event.id)).toEqual(ids.slice(2));
    // Nothing of the request's parameters is on the stream.
    expect(JSON.stringify(events)).not.toContain('mountLocation');

    // A failed run: the step that failed and the run's error with its action.
    await engine.client.request('PUT', `/hooks/${vdbId}/preSnapshot`, { script: 'exit 4' });
    const position = await lastEventId();
    const snapshot = await engine.client.post<{ run: { id: string } }>(`/vdbs/${vdbId}/snapshot`);
    await expect.poll(async () => (await eventsAfter(position)).map((event) => event.type)).toContain('run.failed');
    events = await eventsAfter(position);
    expect(events.find((event) => event.type === 'step.failed')).toMatchObject({
      runId: snapshot.run.id,
      stepId: 'preSnapshotHook',
      error: { code: 'HOOK_FAILED' },
    });
    expect(events.find((event) => event.type === 'run.failed')).toMatchObject({
      runId: snapshot.run.id,
      error: { code: 'HOOK_FAILED', message: expect.any(String) as string },
    });
    await engine.client.delete(`/hooks/${vdbId}/preSnapshot`);

    // Direct readers: XREAD from the same position sees the same entries, `type` and `event` fields.
    const redis = new Redis(engine.redis.url);
    try {
      const read = await redis.xread('COUNT', 100, 'STREAMS', 'dvx:events', must(position, 'position'));
      const entries = must(read?.[0], 'xread')[1];
      expect(entries.map(([id]) => id)).toEqual(events.map((event) => event.id));
      const [, fields] = must(entries[0], 'entry');
      expect(fields[0]).toBe('type');
      expect(JSON.parse(must(fields[3], 'event field'))).toMatchObject({ type: fields[1] });
    } finally {
      redis.disconnect();
    }

    const beforeDelete = await lastEventId();
    await succeeded(engine, await engine.client.delete<{ run: { id: string } }>(`/vdbs/${vdbId}`));
    await expect
      .poll(async () =>
        (await eventsAfter(beforeDelete)).filter((e) => e.type === 'vdb.status').map((e) => [e.from, e.to]),
      )
      .toEqual([['READY', 'DELETED']]);
  });

  it('refuses a position that is not a stream id and needs a token', async () => {
    await expect(engine.client.get('/events?after=yesterday')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const answer = await fetch(`${engine.runtime.url}/events`);
    expect(answer.status).toBe(401);
  });
});
