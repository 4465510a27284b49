import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SshConnectionPool, runBash } from '../../hosts/index.js';
import { defineLifecycle } from '../../machines/index.js';
import { parseRedisUrl } from '../../model/redis-target.js';
import { DurableEngine } from '../../workers/durable-engine.js';
import type { StepContext, StepHandlers } from '../../workers/step-handler.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { startSshHosts, type TestSshHosts } from '../harness/ssh-hosts.js';
import { waitFor } from '../harness/wait-for.js';
import { must } from '../harness/must.js';

interface HostInput {
  runId: string;
  marker: string;
}

/** prepare (undo: unprepare) -> remote (a command on the host) -> finish; on failure: markFailed. */
const hostLifecycle = defineLifecycle<HostInput>({
  kind: 'test-host',
  version: 1,
  description: 'a step that runs a command on a real sshd host',
  steps: [
    {
      id: 'prepare',
      src: 'test.local',
      input: (c) => ({ name: 'prepare', ...c.input }),
      undo: { id: 'unprepare', src: 'test.local', input: (c) => ({ name: 'unprepare', ...c.input }) },
    },
    { id: 'remote', src: 'test.remote', input: (c) => ({ name: 'remote', ...c.input }) },
    { id: 'finish', src: 'test.local', input: (c) => ({ name: 'finish', ...c.input }) },
  ],
  onFailure: [{ id: 'markFailed', src: 'test.local', input: (c) => ({ name: 'markFailed', ...c.input }) }],
});

let redis: TestRedis;
let client: Redis;
let ssh: TestSshHosts;
let pool: SshConnectionPool;
let engine: DurableEngine | undefined;

function handlers(): StepHandlers {
  return {
    'test.local': (async (input: HostInput & { name: string }) => {
      await client.rpush(`test:trail:${input.runId}`, input.name);
      return { name: input.name };
    }) as never,
    'test.remote': (async (input: HostInput & { name: string }, context: StepContext) => {
      await client.rpush(`test:attempts:${input.runId}`, context.operationId);
      const connection = pool.get(must(ssh.hosts[0], 'ssh.hosts[0]').spec());
      // The command writes a marker on the host: proof that it ran there, once it could.
      const result = await runBash(connection, 'printf %s "$MARKER" > "$HOME/marker-$RUN" && echo done', {
        variables: { MARKER: input.marker, RUN: input.runId },
        timeoutMs: 5_000,
        signal: context.signal,
        check: true,
      });
      await client.rpush(`test:trail:${input.runId}`, input.name);
      return { output: result.stdout.trim() };
    }) as never,
  };
}

async function startEngine(deadlineMs: number) {
  return DurableEngine.start({
    redis: parseRedisUrl(redis.url),
    handlers: handlers(),
    lifecycles: [hostLifecycle as never],
    retry: { initialDelayMs: 100, maxDelayMs: 500, deadlineMs },
    worker: { lockDurationMs: 2_000, stalledIntervalMs: 1_000 },
  });
}

async function ended(runId: string, timeoutMs = 30_000) {
  return waitFor(
    `run ${runId} to end`,
    async () => {
      const run = await must(engine, 'engine').store.get(runId);
      return run && run.status !== 'running' ? run : null;
    },
    timeoutMs,
  );
}

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
  ssh = await startSshHosts(1);
});
afterAll(async () => {
  await ssh?.stopAll();
  await redis?.remove();
});
beforeEach(async () => {
  await client.flushall();
  pool = new SshConnectionPool({ keepaliveIntervalMs: 1_000, readyTimeoutMs: 2_000 });
  if (!must(ssh.hosts[0], 'ssh.hosts[0]').pid()) await must(ssh.hosts[0], 'ssh.hosts[0]').start();
});
afterEach(async () => {
  await engine?.stop({ deadlineMs: 5_000 });
  engine = undefined;
  await pool.close();
});

describe('a host that goes down in the middle of a step', () => {
  it('retries the step until the host is back, then the run completes', async () => {
    engine = await startEngine(60_000);
    const host = must(ssh.hosts[0], 'ssh.hosts[0]');
    await host.stop();
    const run = await engine.driver.start(
      'test-host',
      { marker: 'it ran' },
      { objectType: 'thing', objectId: 'h1', requestedBy: 'test' },
    );
    // The remote step keeps failing with a retryable error while the host is down.
    await waitFor(
      'three attempts of the remote step',
      async () => ((await client.llen(`test:attempts:${run.id}`)) >= 3 ? true : null),
      20_000,
    );
    expect(must(await engine.store.get(run.id), '(await engine.store.get(run.id))').status).toBe('running');
    await host.start();
    const final = await ended(run.id);
    expect(final.status).toBe('succeeded');
    expect(await client.lrange(`test:trail:${run.id}`, 0, -1)).toEqual(['prepare', 'remote', 'finish']);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(`${host.home}/marker-${run.id}`, 'utf8')).toBe('it ran');
    const detail = must(await engine.store.detail(run.id), '(await engine.store.detail(run.id))');
    const remote = must(
      detail.steps.find((step) => step.stepId === 'remote'),
      "detail.steps.find((step) => step.stepId === 'remote')",
    );
    expect(remote.attempts.length).toBeGreaterThanOrEqual(3);
    expect(
      remote.attempts
        .slice(0, -1)
        .every((attempt) => attempt.error?.code === 'HOST_UNREACHABLE' && attempt.error.retryable),
    ).toBe(true);
    // Every attempt carried the same operation id.
    const operationIds = await client.lrange(`test:attempts:${run.id}`, 0, -1);
    expect(operationIds.length).toBe(remote.attempts.length);
    expect(new Set(operationIds)).toEqual(new Set([remote.operationId]));
  });

  it('fails the run cleanly through its failure path when the host stays down past the deadline', async () => {
    engine = await startEngine(3_000);
    await must(ssh.hosts[0], 'ssh.hosts[0]').stop();
    const run = await engine.driver.start(
      'test-host',
      { marker: 'never' },
      { objectType: 'thing', objectId: 'h2', requestedBy: 'test' },
    );
    const final = await ended(run.id);
    expect(final.status).toBe('failed');
    // The undo of the completed step ran, then the failure step; the step after the outage never ran.
    expect(await client.lrange(`test:trail:${run.id}`, 0, -1)).toEqual(['prepare', 'unprepare', 'markFailed']);
    const detail = must(await engine.store.detail(run.id), '(await engine.store.detail(run.id))');
    expect(detail.error).toMatchObject({ code: 'STEP_DEADLINE_EXCEEDED' });
    expect(JSON.stringify(detail.error)).toContain('HOST_UNREACHABLE');
    expect(await client.keys('dvx:lock:*')).toEqual([]);
  });
});
