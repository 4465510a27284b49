import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { REQUEST_QUEUE, requestJob, type RequestJobData, type RequestJobResult } from '../../model/request-queue.js';
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

describe('the request queue', () => {
  let producer: Redis;
  let queue: Queue<RequestJobData, RequestJobResult>;
  let queueEvents: QueueEvents;
  let eventsClient: Redis | undefined;
  let operator: string;
  let viewer: string;

  beforeAll(async () => {
    producer = new Redis(engine.redis.url, { maxRetriesPerRequest: null });
    queue = new Queue(REQUEST_QUEUE.name, { connection: producer, prefix: REQUEST_QUEUE.prefix });
    queueEvents = new QueueEvents(REQUEST_QUEUE.name, {
      connection: (eventsClient = new Redis(engine.redis.url, { maxRetriesPerRequest: null })),
      prefix: REQUEST_QUEUE.prefix,
    });
    await queueEvents.waitUntilReady();
    operator = (await engine.client.post<{ secret: string }>('/tokens', { role: 'operator', name: 'ci-operator' }))
      .secret;
    viewer = (await engine.client.post<{ secret: string }>('/tokens', { role: 'viewer', name: 'ci-viewer' })).secret;
  });
  afterAll(async () => {
    await queueEvents?.close();
    await queue?.close();
    producer?.disconnect();
    eventsClient?.disconnect();
  });

  async function request(token: string, jobId: string, operation: string, params: Record<string, unknown> = {}) {
    return queue.add(operation, await requestJob(producer, token, { jobId, operation, params }), { jobId });
  }

  /** The refusal a failed request job carries. */
  async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string; action?: string }> {
    try {
      await promise;
    } catch (error) {
      return JSON.parse((error as Error).message) as { code: string; message: string; action?: string };
    }
    throw new Error('expected the request to be refused');
  }

  it('provisions and deletes a VDB, completing with the run outcome, audited, the token never in Redis', async () => {
    const params = {
      name: 'queued-vdb',
      source: dsourceId,
      environment: environments[2],
      parameters: { mountLocation: join(engine.dir, 'mnt', 'queued-vdb') },
    };
    const job = await request(operator, 'ci-provision-1', 'vdb.provision', params);
    const raw = JSON.stringify(await producer.hgetall(`${REQUEST_QUEUE.prefix}:${REQUEST_QUEUE.name}:ci-provision-1`));
    expect(raw).not.toContain(operator);
    expect(raw).not.toContain(operator.slice(4, 20));
    // The engine's private key is in Redis only sealed with its secret key.
    const pair = must(await producer.hget('dvx:request-queue:key', 'pair'), 'request key');
    expect(pair).toContain('PUBLIC KEY');
    expect(pair).not.toContain('PRIVATE KEY');
    const result = await job.waitUntilFinished(queueEvents, 120_000);
    expect(result).toMatchObject({
      status: 'succeeded',
      objectType: 'vdb',
      runId: expect.stringMatching(/^run-/) as string,
    });
    const { vdb } = await engine.client.get<{ vdb: { id: string; status: string } }>('/vdbs/queued-vdb');
    expect(vdb).toMatchObject({ id: result.objectId, status: 'READY' });
    // Once started, the job holds the run id and no longer the sealed token.
    const data = JSON.parse(
      must(await producer.hget(`${REQUEST_QUEUE.prefix}:${REQUEST_QUEUE.name}:ci-provision-1`, 'data'), 'data'),
    ) as RequestJobData;
    expect(data).toEqual({ operation: 'vdb.provision', params, runId: result.runId });

    // The same job id again is the same request: nothing new runs.
    const again = await request(operator, 'ci-provision-1', 'vdb.provision', params);
    expect(again.id).toBe('ci-provision-1');
    expect(await again.waitUntilFinished(queueEvents, 30_000)).toEqual(result);
    const provisions = await engine.client.get<{ runs: { id: string }[] }>(
      `/runs?objectType=vdb&objectId=${vdb.id}&kind=provision`,
    );
    expect(provisions.runs.map((run) => run.id)).toEqual([result.runId]);

    const { entries } = await engine.client.get<{
      entries: { route: string; runId: string | null; actor: { name: string; ip: string } }[];
    }>('/audit?actor=ci-operator');
    expect(entries.find((entry) => entry.route === '/vdbs')).toMatchObject({
      runId: result.runId,
      actor: { name: 'ci-operator', ip: 'queue:ci-provision-1' },
    });

    const deleted = await (
      await request(operator, 'ci-delete-1', 'vdb.delete', { ref: 'queued-vdb' })
    ).waitUntilFinished(queueEvents, 120_000);
    expect(deleted).toMatchObject({ status: 'succeeded', objectId: vdb.id });
    await expect(engine.client.get('/vdbs/queued-vdb')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a failed run completes the job with the run error; refusals fail it with the typed error', async () => {
    const provision = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'queued-hooked',
      source: dsourceId,
      environment: environments[2],
      parameters: { mountLocation: join(engine.dir, 'mnt', 'queued-hooked') },
    });
    await succeeded(engine, provision);
    await engine.client.request('PUT', `/hooks/queued-hooked/preSnapshot`, { script: 'exit 5' });
    const failed = await (
      await request(operator, 'ci-snap-1', 'vdb.snapshot', { ref: 'queued-hooked' })
    ).waitUntilFinished(queueEvents, 120_000);
    expect(failed).toMatchObject({ status: 'failed', objectId: provision.vdb.id, error: { code: 'HOOK_FAILED' } });
    await engine.client.delete(`/hooks/queued-hooked/preSnapshot`);

    // A viewer may not, exactly as on REST; the refusal is audited too.
    const forbidden = await refusal(
      (await request(viewer, 'ci-viewer-1', 'vdb.snapshot', { ref: 'queued-hooked' })).waitUntilFinished(
        queueEvents,
        30_000,
      ),
    );
    expect(forbidden).toMatchObject({ code: 'FORBIDDEN', action: expect.stringContaining('operator') as string });
    const { entries } = await engine.client.get<{ entries: { actor: { ip: string }; status: number }[] }>(
      '/audit?actor=ci-viewer',
    );
    expect(entries[0]).toMatchObject({ actor: { ip: 'queue:ci-viewer-1' }, status: 403 });
    // Bad input is refused by the route's own validation, naming the field.
    const invalid = await refusal(
      (
        await request(operator, 'ci-bad-1', 'vdb.provision', {
          name: 'x',
          source: dsourceId,
          environment: environments[2],
          colour: 'red',
        })
      ).waitUntilFinished(queueEvents, 30_000),
    );
    expect(invalid).toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ pointer: '/colour' }] } });
    expect(
      await refusal(
        (await request(operator, 'ci-bad-2', 'vdb.explode', { ref: 'queued-hooked' })).waitUntilFinished(
          queueEvents,
          30_000,
        ),
      ),
    ).toMatchObject({ code: 'VALIDATION_FAILED' });
    // A sealed token is good for its own request only: moved to another job, it opens nothing.
    const sealed = await requestJob(producer, operator, {
      jobId: 'ci-a',
      operation: 'vdb.snapshot',
      params: { ref: 'queued-hooked' },
    });
    const moved = await queue.add('vdb.snapshot', sealed, { jobId: 'ci-b' });
    expect(await refusal(moved.waitUntilFinished(queueEvents, 30_000))).toMatchObject({ code: 'UNAUTHORIZED' });
    const stolen = await queue.add('vdb.delete', { ...sealed, operation: 'vdb.delete' }, { jobId: 'ci-a' });
    expect(await refusal(stolen.waitUntilFinished(queueEvents, 30_000))).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await engine.client.get<{ vdb: { status: string } }>('/vdbs/queued-hooked')).vdb.status).toBe('READY');
  });
});
