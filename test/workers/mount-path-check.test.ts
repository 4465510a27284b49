// Paths a plugin computes are checked in the attach step, before anything is mounted: the same rule as at request
// time (absolute, normalised, printable, not a system directory).
import type { Redis } from 'ioredis';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBash, SshConnectionPool } from '../../hosts/index.js';
import { silentLogger } from '../../log/logger.js';
import { DvxModel } from '../../model/dvx-model.js';
import { SecretBox } from '../../model/secret-box.js';
import { BindMountTransport } from '../../storage/bind-mount-transport.js';
import { ReflinkBackend } from '../../storage/reflink-backend.js';
import { mountSteps } from '../../workers/steps/mount-steps.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { makeTempDir } from '../harness/temp-dir.js';

let redis: TestRedis;
let client: Redis;
let dir: Awaited<ReturnType<typeof makeTempDir>>;
let hosts: SshConnectionPool;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
  dir = await makeTempDir('mount-path-check');
  hosts = new SshConnectionPool({ logger: silentLogger });
});

afterAll(async () => {
  await hosts?.close();
  await redis?.remove();
  await dir?.remove();
});

describe('the attach step', () => {
  it('refuses (MOUNT_FAILED, not retried) a mount path the plugin computed that breaks the rule, naming it', async () => {
    const model = new DvxModel(client);
    const steps = mountSteps({
      model,
      secrets: SecretBox.random(),
      storage: new ReflinkBackend({ root: join(dir.path, 'pool') }),
      mounts: new BindMountTransport({ runBash }),
      hosts,
      logger: silentLogger,
    });
    await model.vdbs.create({
      id: 'vdb-1',
      name: 'computed',
      pluginId: 'p',
      parentType: 'dsource',
      parentId: 'ds-1',
      provisionedFromSnapshotId: 's',
      // No such environment: the check comes before any connection.
      environmentId: 'env-nowhere',
      repositoryId: 'r',
      parameters: {},
      sourceConfig: null,
      currentTimeflowId: 'tf-1',
      mounts: null,
      ownership: null,
      status: 'PROVISIONING',
      enabled: false,
      running: false,
      lastRunId: null,
      lastError: null,
    });
    for (const [mountPath, message] of [
      ['/etc', /is the system directory \/etc/],
      ['/var', /is the system directory/],
      ['/usr/lib', /is the system directory/],
      ['/sys/fs', /is the system directory/],
      ['data/vdb', /must be an absolute path/],
      ['/srv/x/../../etc', /must be a normalised path/],
      ['/srv/x\ny', /control characters/],
    ] as const) {
      const error = await steps['mount.attachVdb']({
        vdbId: 'vdb-1',
        datasetId: 'tf-1',
        mountSpecification: {
          mounts: [
            { environmentId: 'env-nowhere', mountPath: join(dir.path, 'fine') },
            { environmentId: 'env-nowhere', mountPath },
          ],
          ownership: null,
        },
      }).then(
        () => null,
        (caught: { code?: string; message: string; retryable?: boolean; details?: Record<string, unknown> }) => caught,
      );
      expect(error, mountPath).toMatchObject({
        code: 'MOUNT_FAILED',
        retryable: false,
        message: expect.stringMatching(message) as string,
        details: { pointer: '/mounts/1/mountPath' },
      });
    }
    expect((await model.vdbs.require('vdb-1')).mounts).toBeNull();
  });
});
