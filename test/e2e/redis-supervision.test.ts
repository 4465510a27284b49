import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDvxError } from '../../errors/index.js';
import type { EngineClient } from '../../cli/engine-client.js';
import { waitFor } from '../harness/wait-for.js';
import { must } from '../harness/must.js';
import type { EngineFixture } from './engine-fixture.js';
import { embeddedRedisPid, startEmbeddedEngineFixture } from './embedded-engine-fixture.js';
import { setUpDsource } from './fixture-setup.js';

interface RunView {
  id: string;
  status: string;
  error?: unknown;
}

/** A GET that is tried again while the engine answers REDIS_UNAVAILABLE (what a retrying client does). */
async function getRetrying<T>(client: EngineClient, path: string): Promise<T> {
  for (;;) {
    try {
      return await client.get<T>(path);
    } catch (error) {
      if (!(isDvxError(error) && error.code === 'REDIS_UNAVAILABLE')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

let engine: EngineFixture;

beforeAll(async () => {
  engine = await startEmbeddedEngineFixture();
}, 180_000);
afterAll(async () => {
  await engine?.stop();
}, 120_000);

describe('the embedded Redis is supervised', () => {
  it('restarts the embedded redis-server after kill -9, and 10 provisions in flight all succeed', async () => {
    const { dsourceId, environments } = await setUpDsource(engine, 'supervised');
    const runIds: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const answer = await engine.client.post<{ run: { id: string } }>('/vdbs', {
        name: `supervised-vdb-${i}`,
        source: dsourceId,
        environment: must(environments[i % 3], 'environment'),
        parameters: { mountLocation: join(engine.dir, 'mnt', `supervised-vdb-${i}`) },
      });
      runIds.push(answer.run.id);
    }
    const statuses = async () =>
      Promise.all(runIds.map(async (id) => (await getRetrying<{ run: RunView }>(engine.client, `/runs/${id}`)).run));

    // kill -9 while the provisions run, twice: once at once, once when the first have finished.
    const firstPid = await embeddedRedisPid(engine.runtime.dataDir);
    process.kill(firstPid, 'SIGKILL');
    const secondPid = await waitFor(
      'the engine to start a new redis-server',
      async () => {
        const pid = await embeddedRedisPid(engine.runtime.dataDir).catch(() => 0);
        return pid > 0 && pid !== firstPid ? pid : null;
      },
      30_000,
      100,
    );
    const midway = await waitFor(
      'a first provision to finish',
      async () => {
        const runs = await statuses();
        return runs.some((run) => run.status !== 'running') ? runs : null;
      },
      120_000,
      200,
    );
    expect(
      midway.some((run) => run.status === 'running'),
      'provisions still running at the second kill',
    ).toBe(true);
    process.kill(secondPid, 'SIGKILL');

    const runs = await waitFor(
      'every provision to end',
      async () => {
        const all = await statuses();
        return all.every((run) => run.status !== 'running') ? all : null;
      },
      240_000,
      500,
    );
    for (const run of runs) expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(await embeddedRedisPid(engine.runtime.dataDir)).not.toBe(secondPid);
    const health = await fetch(`${engine.runtime.url}/health`);
    expect(health.status).toBe(200);
    const report = (await health.json()) as {
      status: string;
      dependencies: { redis: { details: { restarts: number } } };
    };
    expect(report.status).toBe('ok');
    expect(report.dependencies.redis.details.restarts).toBe(2);
    const { vdbs } = await engine.client.get<{ vdbs: { name: string }[] }>('/vdbs');
    expect(vdbs.filter((vdb) => vdb.name.startsWith('supervised-vdb-'))).toHaveLength(10);
  }, 420_000);
});
