import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { REQUEST_QUEUE, requestJob, type RequestJobData, type RequestJobResult } from '../../model/request-queue.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../model/event-log.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { dvx, setUpDsource, succeeded } from './fixture-setup.js';
import { must } from '../harness/must.js';

let engine: EngineFixture;
let dsourceId: string;
let environments: string[] = [];

beforeAll(async () => {
  engine = await startEngineFixture({
    events: { maxLength: 10_000 },
    webhooks: { attempts: 6, backoffMs: 300, timeoutMs: 5_000 },
  });
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

describe('webhooks', () => {
  interface Received {
    path: string;
    headers: IncomingHttpHeaders;
    body: string;
    answered: number;
  }
  let receiver: Server;
  let base: string;
  const received: Received[] = [];
  /** While true, /hook answers 500: later events of the same object pile up behind the first one. */
  let holdHook = true;

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        let answered = 204;
        if (request.url === '/down') answered = 500;
        else if (holdHook) answered = 500;
        received.push({
          path: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          answered,
        });
        response.writeHead(answered).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('signs each body, retries after a 500, keeps the order per object, lists deliveries, never shows the secret', async () => {
    const provision = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'watched-vdb',
      source: dsourceId,
      environment: environments[2],
      parameters: { mountLocation: join(engine.dir, 'mnt', 'watched-vdb') },
    });
    await succeeded(engine, provision);
    const vdbId = provision.vdb.id;
    const secret = 'a-signing-key-for-the-test';
    const added = await dvx(
      engine,
      '--json',
      'webhook',
      'add',
      `${base}/hook`,
      '--events',
      'run.started,run.succeeded,run.failed',
      '--object',
      'watched-vdb',
      '--secret',
      secret,
    );
    expect(added.code, added.stderr).toBe(0);
    const webhook = (JSON.parse(added.stdout) as { webhook: { id: string; objectId: string } }).webhook;
    expect(webhook.objectId).toBe(vdbId);
    expect(added.stdout).not.toContain(secret);
    // A second subscription whose receiver always fails: its deliveries end failed after every attempt.
    const down = await engine.client.post<{ webhook: { id: string }; secret: string }>('/webhooks', {
      url: `${base}/down`,
      events: ['run.succeeded'],
      object: vdbId,
    });
    expect(down.secret).toMatch(/^[\w-]{40,}$/);

    const runs: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const snapshot = await engine.client.post<{ run: { id: string } }>(`/vdbs/${vdbId}/snapshot`);
      await succeeded(engine, snapshot);
      runs.push(snapshot.run.id);
    }
    // Other objects' events do not reach a subscription filtered on this one.
    await succeeded(engine, await engine.client.post<{ run: { id: string } }>(`/dsources/${dsourceId}/sync`));
    expect(received.filter((request) => request.path === '/hook').length).toBeGreaterThan(0);
    holdHook = false;

    const hook = () => received.filter((request) => request.path === '/hook');
    await expect.poll(() => hook().filter((request) => request.answered === 204).length, { timeout: 30_000 }).toBe(4);
    // The first event was refused with 500s and sent again until accepted; none of the later events of the same
    // object (all emitted meanwhile) overtook it.
    const answers = hook().map((request) => request.answered);
    const retries = answers.indexOf(204);
    expect(retries).toBeGreaterThan(0);
    expect(answers.slice(retries)).toEqual([204, 204, 204, 204]);
    const events = hook().map((request) => JSON.parse(request.body) as StoredEvent);
    expect(new Set(events.slice(0, retries + 1).map((event) => event.id)).size).toBe(1);
    expect(events.slice(retries).map((event) => [event.type, event.runId])).toEqual([
      ['run.started', runs[0]],
      ['run.succeeded', runs[0]],
      ['run.started', runs[1]],
      ['run.succeeded', runs[1]],
    ]);
    for (const request of hook()) {
      const expected = `sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`;
      expect(request.headers['x-dvx-signature']).toBe(expected);
      expect(request.headers['x-dvx-event']).toBe((JSON.parse(request.body) as StoredEvent).type);
    }

    const listed = await dvx(engine, '--json', 'webhook', 'deliveries', webhook.id);
    expect(listed.code, listed.stderr).toBe(0);
    const deliveries = (
      JSON.parse(listed.stdout) as { deliveries: { status: string; attempts: number; lastStatus: number }[] }
    ).deliveries;
    expect(deliveries.map((delivery) => [delivery.status, delivery.attempts, delivery.lastStatus])).toEqual([
      ['delivered', 1, 204],
      ['delivered', 1, 204],
      ['delivered', 1, 204],
      ['delivered', retries + 1, 204],
    ]);
    await expect
      .poll(
        async () =>
          (
            await engine.client.get<{ deliveries: { status: string; attempts: number; lastError: string }[] }>(
              `/webhooks/${down.webhook.id}/deliveries`,
            )
          ).deliveries,
        { timeout: 60_000 },
      )
      .toEqual([
        expect.objectContaining({ status: 'failed', attempts: 6, lastError: 'the receiver answered HTTP 500' }),
        expect.objectContaining({ status: 'failed', attempts: 6, lastError: 'the receiver answered HTTP 500' }),
      ]);

    // The secret is neither in the API's answers nor in Redis in clear.
    const { webhooks } = await engine.client.get<{ webhooks: Record<string, unknown>[] }>('/webhooks');
    expect(webhooks.map((entry) => entry.id).sort()).toEqual([webhook.id, down.webhook.id].sort());
    for (const entry of webhooks) expect(entry).not.toHaveProperty('secret');
    const redis = new Redis(engine.redis.url);
    try {
      const stored = must(await redis.get(`dvx:webhook:${webhook.id}`), 'stored webhook');
      expect(stored).not.toContain(secret);
      expect(stored).not.toContain(down.secret);
    } finally {
      redis.disconnect();
    }

    const removed = await dvx(engine, 'webhook', 'rm', webhook.id);
    expect(removed.code, removed.stderr).toBe(0);
    await engine.client.delete(`/webhooks/${down.webhook.id}`);
    expect((await engine.client.get<{ webhooks: unknown[] }>('/webhooks')).webhooks).toEqual([]);
  }, 180_000);

  it('refuses a URL that is not http(s) and an unknown event type', async () => {
    await expect(
      engine.client.post('/webhooks', { url: 'file:///etc/passwd', events: ['run.failed'] }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(engine.client.post('/webhooks', { url: `${base}/x`, events: ['run.exploded'] })).rejects.toMatchObject(
      {
        code: 'VALIDATION_FAILED',
      },
    );
  });
});

describe("the README's CI example", () => {
  it('provisions a VDB through the queue, runs the command with it, and deletes it after, even when the command fails', async () => {
    const readme = await readFile('README.md', 'utf8');
    const start = readme.indexOf('// ci-vdb.mjs');
    const script = readme
      .slice(start, readme.indexOf('```', start))
      .replace("'orders-db'", JSON.stringify(dsourceId))
      .replace("'ci-target'", JSON.stringify(environments[2]))
      .replace('/mnt/ci/', `${engine.dir}/mnt/`);
    expect(start).toBeGreaterThan(0);
    // Inside the package, so that `dvx/queue` resolves to this package's export (dist/, built by npm test's setup).
    const file = join('test', 'e2e', `.ci-vdb-${process.pid}.mjs`);
    await writeFile(file, script);
    const token = (await engine.client.post<{ secret: string }>('/tokens', { role: 'operator', name: 'ci' })).secret;
    const run = async (build: string, command: string[]) =>
      promisify(execFile)(process.execPath, [file, '--', ...command], {
        env: { ...process.env, DVX_TOKEN: token, DVX_REDIS_URL: engine.redis.url, CI_PIPELINE_ID: build },
      }).then(
        () => 0,
        (error: { code?: number }) => error.code ?? -1,
      );
    try {
      const out = join(engine.dir, 'ci-out');
      // The command sees its VDB by name and reads the data through the VDB's mount.
      const copy = ['sh', '-c', `printf '%s:' "$DVX_VDB" > ${out} && cat ${engine.dir}/mnt/ci-101/a.txt >> ${out}`];
      expect(await run('101', copy)).toBe(0);
      expect(await readFile(out, 'utf8')).toBe('ci-101:a\n');
      await expect(engine.client.get('/vdbs/ci-101')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await run('102', ['sh', '-c', 'exit 3'])).toBe(3);
      await expect(engine.client.get('/vdbs/ci-102')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const { entries } = await engine.client.get<{ entries: { route: string; actor: { ip: string } }[] }>(
        '/audit?actor=ci',
      );
      expect(entries.map((entry) => [entry.route, entry.actor.ip])).toEqual([
        ['/vdbs/:ref', 'queue:ci-102-delete'],
        ['/vdbs', 'queue:ci-102-provision'],
        ['/vdbs/:ref', 'queue:ci-101-delete'],
        ['/vdbs', 'queue:ci-101-provision'],
      ]);
    } finally {
      await rm(file, { force: true });
    }
  }, 180_000);
});
