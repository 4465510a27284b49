import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

interface HealthView {
  status: string;
  dependencies: { redis: { status: string; details: { pid: number; restarts: number } } };
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
    // Reads ride over the restarts by themselves (the client tries a read again while Redis is unavailable).
    const statuses = async () =>
      Promise.all(runIds.map(async (id) => (await engine.client.get<{ run: RunView }>(`/runs/${id}`)).run));

    const upWithNewPid = (previous: number) =>
      waitFor(
        'the engine to restart redis-server and report it up',
        async () => {
          const pid = await embeddedRedisPid(engine.runtime.dataDir).catch(() => 0);
          if (pid === 0 || pid === previous) return null;
          const report = (await (
            await fetch(`${engine.runtime.url}/health`, { headers: { authorization: `Bearer ${engine.token}` } })
          ).json()) as HealthView;
          const { status, details } = report.dependencies.redis;
          return status === 'up' && details.pid === pid ? pid : null;
        },
        30_000,
        50,
      );

    // kill -9 while the provisions run, twice: the server the engine started, then the one it restarted.
    const before = await statuses();
    const firstPid = await embeddedRedisPid(engine.runtime.dataDir);
    process.kill(firstPid, 'SIGKILL');
    expect(
      before.some((run) => run.status === 'running'),
      'provisions running at the first kill',
    ).toBe(true);
    const secondPid = await upWithNewPid(firstPid);
    process.kill(secondPid, 'SIGKILL');
    const thirdPid = await upWithNewPid(secondPid);

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
    expect(await embeddedRedisPid(engine.runtime.dataDir)).toBe(thirdPid);
    const report = await engine.client.get<{
      status: string;
      dependencies: { redis: { details: { restarts: number } } };
    }>('/health');
    expect(report.status).toBe('ok');
    expect(report.dependencies.redis.details.restarts).toBe(2);
    const { vdbs } = await engine.client.get<{ vdbs: { name: string }[] }>('/vdbs');
    expect(vdbs.filter((vdb) => vdb.name.startsWith('supervised-vdb-'))).toHaveLength(10);
  }, 420_000);
});
