import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEngineRuntime, type EngineRuntime } from '../../cli/engine-runtime.js';
import { ConflictError } from '../../errors/index.js';
import { silentLogger } from '../../log/logger.js';
import type { DsourceRecord } from '../../model/dsource.js';
import { KEY_PREFIX } from '../../model/keys.js';
import { applyPolicy, createPolicy, deletePolicy, unapplyPolicy } from '../../services/policies/index.js';
import type { ServiceContext } from '../../services/service-context.js';
import { ReflinkBackend } from '../../storage/index.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { stringContaining } from '../harness/matchers.js';
import { chainLifecycle, testHandlers } from '../workers/test-lifecycles.js';

let redis: TestRedis;
let client: Redis;
let dir: { path: string; remove(): Promise<void> };
let runtime: EngineRuntime;
let ctx: ServiceContext;
const actor = { name: 'alice' };
const CONTENDERS = 24;

const dsource = (id: string): Omit<DsourceRecord, 'rev' | 'createdAt' | 'updatedAt'> => ({
  id,
  name: id,
  pluginId: 'p',
  pluginType: 'DIRECT',
  sourceConfigId: 'sc',
  repositoryId: 'r',
  sourceEnvironmentId: 'e',
  stagingEnvironmentId: null,
  parameters: {},
  currentTimeflowId: null,
  stagingMounts: null,
  ownership: null,
  status: 'ACTIVE',
  enabled: true,
  lastRunId: null,
  lastError: null,
});

const settle = <T>(promises: Promise<T>[]) => Promise.allSettled(promises);
const winners = <T>(results: PromiseSettledResult<T>[]) =>
  results.filter((result): result is PromiseFulfilledResult<T> => result.status === 'fulfilled');
const losers = <T>(results: PromiseSettledResult<T>[]) =>
  results
    .filter((result): result is PromiseRejectedResult => result.status === 'rejected')
    .map((result) => result.reason as unknown);

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
  dir = await makeTempDir('policy-race');
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
  ctx = runtime.ctx;
});
afterAll(async () => {
  await runtime?.stop();
  await redis?.remove();
  await dir?.remove();
});

let objectId: string;
let serial = 0;
beforeEach(async () => {
  serial += 1;
  objectId = `ds-race-${serial}`;
  await ctx.model.dsources.create(dsource(objectId));
});

describe('one policy of each type per object', () => {
  it('lets exactly one of many concurrent creates on one object win; the others get a ConflictError', async () => {
    const results = await settle(
      Array.from({ length: CONTENDERS }, (_, index) =>
        createPolicy(
          ctx,
          { name: `sync-${serial}-${index}`, type: 'SNAPSYNC', schedule: { cron: '0 2 * * *' }, targets: [objectId] },
          actor,
        ),
      ),
    );
    expect(winners(results)).toHaveLength(1);
    const refused = losers(results);
    expect(refused).toHaveLength(CONTENDERS - 1);
    for (const error of refused) {
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'CONFLICT', message: stringContaining(`dSource "${objectId}"`) });
    }
    const holding = (await ctx.model.policies.list()).filter(
      (policy) => policy.type === 'SNAPSYNC' && policy.targets.some((target) => target.id === objectId),
    );
    expect(holding.map((policy) => policy.id)).toEqual([winners(results)[0]?.value.policy.id]);
    // The losers left no record behind: only the winner's name is taken, and the slot is the winner's.
    const taken = await Promise.all(
      Array.from(
        { length: CONTENDERS },
        async (_, index) => (await ctx.model.policies.byName(`sync-${serial}-${index}`)) !== null,
      ),
    );
    expect(taken.filter(Boolean)).toHaveLength(1);
    expect(await ctx.model.policySlots.holder(objectId, 'SNAPSYNC')).toBe(winners(results)[0]?.value.policy.id);
  });

  it('lets exactly one of many concurrent applies win, and a policy of another type apply beside it', async () => {
    const names = Array.from({ length: CONTENDERS }, (_, index) => `apply-${serial}-${index}`);
    for (const name of names)
      await createPolicy(ctx, { name, type: 'SNAPSYNC', schedule: { cron: '0 3 * * *' } }, actor);
    const results = await settle(names.map((name) => applyPolicy(ctx, name, objectId)));
    expect(winners(results)).toHaveLength(1);
    expect(losers(results).every((error) => error instanceof ConflictError)).toBe(true);
    const holders = (await ctx.model.policies.list()).filter(
      (policy) => policy.type === 'SNAPSYNC' && policy.targets.some((target) => target.id === objectId),
    );
    expect(holders).toHaveLength(1);
    await createPolicy(
      ctx,
      { name: `keep-${serial}`, type: 'RETENTION', retention: { keepCount: 3 }, targets: [objectId] },
      actor,
    );
  });

  it('frees the slot when the policy is taken off the object or deleted', async () => {
    const first = await createPolicy(
      ctx,
      { name: `first-${serial}`, type: 'SNAPSYNC', schedule: { cron: '0 4 * * *' }, targets: [objectId] },
      actor,
    );
    await expect(
      createPolicy(
        ctx,
        { name: `second-${serial}`, type: 'SNAPSYNC', schedule: { cron: '0 4 * * *' }, targets: [objectId] },
        actor,
      ),
    ).rejects.toBeInstanceOf(ConflictError);
    await unapplyPolicy(ctx, first.policy.id, objectId);
    const second = await createPolicy(
      ctx,
      { name: `second-${serial}`, type: 'SNAPSYNC', schedule: { cron: '0 4 * * *' }, targets: [objectId] },
      actor,
    );
    await deletePolicy(ctx, second.policy.id);
    await applyPolicy(ctx, first.policy.id, objectId);
  });

  it('takes over a claim a crashed create left behind, but not one that may still be in progress', async () => {
    const slot = `${KEY_PREFIX}:policy-slot:${objectId}:SNAPSYNC`;
    await client.hset(slot, 'policy', 'pol-in-progress', 'at', String(Date.now()));
    const busy = await createPolicy(
      ctx,
      { name: `busy-${serial}`, type: 'SNAPSYNC', schedule: { cron: '0 5 * * *' }, targets: [objectId] },
      actor,
    ).catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(ConflictError);
    expect(busy).toMatchObject({ message: stringContaining('at this moment') });
    await client.hset(slot, 'policy', 'pol-crashed', 'at', String(Date.now() - 3_600_000));
    const created = await createPolicy(
      ctx,
      { name: `after-crash-${serial}`, type: 'SNAPSYNC', schedule: { cron: '0 5 * * *' }, targets: [objectId] },
      actor,
    );
    expect(await client.hget(slot, 'policy')).toBe(created.policy.id);
  });
});
