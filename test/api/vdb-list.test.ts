import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineRuntime, type EngineRuntime } from '../../cli/engine-runtime.js';
import { silentLogger } from '../../log/logger.js';
import type { VdbRecord } from '../../model/vdb.js';
import { TokenStore } from '../../model/token-store.js';
import { ReflinkBackend } from '../../storage/index.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { chainLifecycle, testHandlers } from '../workers/test-lifecycles.js';

let redis: TestRedis;
let dir: { path: string; remove(): Promise<void> };
let runtime: EngineRuntime;
let app: FastifyInstance;
let viewer: string;

beforeAll(async () => {
  redis = await startRedisServer();
  dir = await makeTempDir('vdb-list');
  runtime = await startEngineRuntime({
    dataDir: dir.path,
    redisUrl: redis.url,
    port: 0,
    logger: silentLogger,
    storage: new ReflinkBackend({ root: join(dir.path, 'pool') }),
    handlers: ({ redis: store }) => testHandlers(store),
    health: false,
    engine: { lifecycles: [chainLifecycle as never] },
  });
  app = runtime.api;
  viewer = (await new TokenStore(redis.client()).create('victor', 'viewer')).token;
  for (let i = 0; i < 5; i += 1) {
    const vdb: Omit<VdbRecord, 'rev' | 'createdAt' | 'updatedAt'> = {
      id: `vdb-${i}`,
      name: `vdb-${i}`,
      pluginId: 'p',
      parentType: 'dsource',
      parentId: 'd',
      provisionedFromSnapshotId: 's',
      environmentId: 'e',
      repositoryId: 'r',
      parameters: { mountLocation: `/mnt/vdb-${i}`, password: 'hunter2', port: 5432 },
      sourceConfig: { password: 1234, user: 'app' },
      currentTimeflowId: null,
      mounts: null,
      ownership: null,
      status: 'READY',
      enabled: true,
      running: true,
      lastRunId: null,
      lastError: null,
    };
    await runtime.ctx.model.vdbs.create(vdb);
    // Distinct creation times: the list is oldest first.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
});
afterAll(async () => {
  await runtime.stop();
  await redis.remove();
  await dir.remove();
});

const list = async (query = '') => {
  const response = await app.inject({
    method: 'GET',
    url: `/vdbs${query}`,
    headers: { authorization: `Bearer ${viewer}` },
  });
  return {
    status: response.statusCode,
    body: response.json<{ vdbs: { id: string; parameters: unknown; sourceConfig: unknown }[] }>(),
  };
};

describe('GET /vdbs', () => {
  it('lists every VDB, oldest first, unless a page is asked for', async () => {
    expect((await list()).body.vdbs.map((vdb) => vdb.id)).toEqual(['vdb-0', 'vdb-1', 'vdb-2', 'vdb-3', 'vdb-4']);
    expect((await list('?limit=2')).body.vdbs.map((vdb) => vdb.id)).toEqual(['vdb-0', 'vdb-1']);
    expect((await list('?limit=2&offset=3')).body.vdbs.map((vdb) => vdb.id)).toEqual(['vdb-3', 'vdb-4']);
    expect((await list('?offset=4')).body.vdbs.map((vdb) => vdb.id)).toEqual(['vdb-4']);
    expect((await list('?offset=9')).body.vdbs).toEqual([]);
    expect((await list('?limit=0')).status).toBe(400);
  });

  it('never shows a secret-named value, whatever its type, and shows the rest as stored', async () => {
    const [first] = (await list('?limit=1')).body.vdbs;
    expect(first?.parameters).toEqual({ mountLocation: '/mnt/vdb-0', password: '[redacted]', port: 5432 });
    expect(first?.sourceConfig).toEqual({ password: '[redacted]', user: 'app' });
  });
});
