import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../errors/index.js';
import { childVdbs, refuseIfDependents, snapshotDependents } from '../../model/dependencies.js';
import { DvxModel } from '../../model/dvx-model.js';
import { mapPasswordFields } from '../../model/schema-secrets.js';
import { SecretBox } from '../../model/secret-box.js';
import type { VdbRecord } from '../../model/vdb.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { makeTempDir } from '../harness/temp-dir.js';

let redis: TestRedis;
let client: Redis;
let model: DvxModel;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
  model = new DvxModel(client);
});
afterAll(async () => redis.remove());
beforeEach(async () => client.flushall());

const vdb = (id: string, name: string, parentId: string): Omit<VdbRecord, 'rev' | 'createdAt' | 'updatedAt'> => ({
  id,
  name,
  pluginId: 'p',
  parentType: 'dsource',
  parentId,
  provisionedFromSnapshotId: 's',
  environmentId: 'e',
  repositoryId: 'r',
  parameters: {},
  sourceConfig: null,
  currentTimeflowId: null,
  mounts: null,
  ownership: null,
  status: 'READY',
  enabled: true,
  running: true,
  lastRunId: null,
  lastError: null,
});

describe('record store', () => {
  it('creates, finds by id or name, lists by index, and refuses duplicate names naming the holder', async () => {
    await model.vdbs.create(vdb('vdb-1', 'dev', 'ds-1'));
    await model.vdbs.create(vdb('vdb-2', 'qa', 'ds-1'));
    expect((await model.vdbs.find('dev'))?.id).toBe('vdb-1');
    expect((await model.vdbs.find('vdb-2'))?.name).toBe('qa');
    expect((await model.vdbs.listBy('parentId', 'ds-1')).map((v) => v.id)).toEqual(['vdb-1', 'vdb-2']);
    const error = await model.vdbs.create(vdb('vdb-3', 'dev', 'ds-1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).message).toBe('A VDB named "dev" already exists (vdb-1).');
    expect(await model.vdbs.get('vdb-3')).toBeNull();
  });

  it('never loses a concurrent update: revisions are compare-and-set', async () => {
    await model.vdbs.create(vdb('vdb-1', 'dev', 'ds-1'));
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        model.vdbs.update('vdb-1', (current) => ({ parameters: { ...current.parameters, [`k${i}`]: i } })),
      ),
    );
    const final = await model.vdbs.require('vdb-1');
    expect(Object.keys(final.parameters)).toHaveLength(20);
    expect(final.rev).toBe(21);
  });

  it('deletes a record with its name and index entries', async () => {
    await model.vdbs.create(vdb('vdb-1', 'dev', 'ds-1'));
    await model.vdbs.delete('vdb-1');
    expect(await model.vdbs.find('dev')).toBeNull();
    expect(await model.vdbs.listBy('parentId', 'ds-1')).toEqual([]);
    await model.vdbs.create(vdb('vdb-9', 'dev', 'ds-2'));
  });

  it('says what to do when a record is missing', async () => {
    await expect(model.dsources.require('nope')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'No dSource with id "nope".',
    });
  });
});

describe('dependencies', () => {
  it('names the timeflows that depend on a snapshot and the VDBs that depend on a dSource', async () => {
    await model.vdbs.create(vdb('vdb-1', 'dev', 'ds-1'));
    await model.timeflows.create({
      id: 'tf-a',
      ownerType: 'vdb',
      ownerId: 'vdb-1',
      parentSnapshotId: 'snap-1',
      creationType: 'PROVISION',
      runId: 'run-1',
    });
    const dependents = await snapshotDependents(model, 'snap-1');
    expect(() => refuseIfDependents('Snapshot snap-1', dependents, 'Delete or refresh them first.')).toThrow(
      'Snapshot snap-1 cannot be deleted: timeflow tf-a of VDB "dev" depends on it.',
    );
    expect(() => refuseIfDependents('dSource ds-1', [], 'x')).not.toThrow();
    expect((await childVdbs(model, 'ds-1')).map((d) => d.name)).toEqual(['dev']);
  });
});

describe('secrets at rest', () => {
  it('seals and opens with the data dir key, and refuses a foreign key', async () => {
    const dir = await makeTempDir('secret');
    try {
      const box = await SecretBox.forDataDir(dir.path, {});
      const sealed = box.seal('s3cr3t "quoted"');
      expect(sealed).not.toContain('s3cr3t');
      expect((await SecretBox.forDataDir(dir.path, {})).open(sealed)).toBe('s3cr3t "quoted"');
      expect(() => SecretBox.random().open(sealed)).toThrow(/cannot be decrypted/);
    } finally {
      await dir.remove();
    }
  });

  it('finds password fields through the plugin schema, nested and in arrays', () => {
    const schema = {
      type: 'object',
      properties: {
        user: { type: 'string' },
        password: { type: 'string', format: 'password' },
        replicas: {
          type: 'array',
          items: { type: 'object', properties: { pw: { type: 'string', format: 'password' } } },
        },
      },
    };
    const data = { user: 'u', password: 'p1', replicas: [{ pw: 'p2' }, { pw: 'p3' }] };
    expect(mapPasswordFields(data, schema, (v) => `<${v}>`)).toEqual({
      user: 'u',
      password: '<p1>',
      replicas: [{ pw: '<p2>' }, { pw: '<p3>' }],
    });
  });
});
