import type { Redis } from 'ioredis';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBash, SshConnectionPool } from '../../hosts/index.js';
import { silentLogger } from '../../log/logger.js';
import { DvxModel } from '../../model/dvx-model.js';
import { SecretBox } from '../../model/secret-box.js';
import { nodeRunnerLauncher, RunnerPool, type PluginArtifact } from '../../operations/index.js';
import { cachedCodePath } from '../../operations/invoker/index.js';
import { BindMountTransport } from '../../storage/bind-mount-transport.js';
import { ReflinkBackend } from '../../storage/reflink-backend.js';
import type { StepContext } from '../../workers/step-handler.js';
import { callPlugin } from '../../workers/steps/plugin-call.js';
import type { StepServices } from '../../workers/steps/step-services.js';
import { makeArtifact } from '../fixtures/plugins/make-artifact.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { makeTempDir } from '../harness/temp-dir.js';

let redis: TestRedis;
let client: Redis;
let dir: Awaited<ReturnType<typeof makeTempDir>>;
let hosts: SshConnectionPool;
let artifact: PluginArtifact;

beforeAll(async () => {
  redis = await startRedisServer();
  client = redis.client();
  dir = await makeTempDir('plugin-call');
  hosts = new SshConnectionPool({ logger: silentLogger });
  artifact = await makeArtifact({ entry: 'direct-plugin.ts', pluginType: 'DIRECT' });
  const model = new DvxModel(client);
  await model.plugins.create({
    id: 'plugin-direct',
    name: 'direct',
    buildNumber: '1',
    externalVersion: null,
    pluginType: 'DIRECT',
    artifactHash: artifact.codeSha256,
    uploadedBy: 'test',
  });
  await model.putPluginArtifact('plugin-direct', artifact);
}, 60_000);

afterAll(async () => {
  await hosts?.close();
  await redis?.remove();
  await dir?.remove();
});

function services(plugins?: StepServices['plugins'], runners?: RunnerPool): StepServices {
  return {
    model: new DvxModel(client),
    secrets: SecretBox.random(),
    storage: new ReflinkBackend({ root: join(dir.path, 'pool') }),
    mounts: new BindMountTransport({ runBash }),
    hosts,
    logger: silentLogger,
    ...(plugins ? { plugins } : {}),
    ...(runners ? { runners } : {}),
  };
}

const context = (operationId: string): StepContext => ({
  runId: 'run-1',
  stepId: 'repositories',
  src: 'plugin.discovery.repository',
  operationId,
  attempt: 1,
  signal: new AbortController().signal,
  logger: silentLogger,
});
const sourceConnection = {
  environment: { name: 'nowhere', reference: 'env-1', host: { hostname: 'nowhere.invalid', scratchPath: '/tmp' } },
  user: { name: 'dvx', reference: 'env-1' },
};

describe('plugin calls from steps', () => {
  it("cache the plugin's code where StepServices.plugins.cacheDir says", async () => {
    const cacheDir = join(dir.path, 'code-cache');
    const found = await callPlugin(services({ cacheDir }), context('op-1'), {
      pluginId: 'plugin-direct',
      operation: 'discovery.repository',
      args: { sourceConnection },
    });
    expect(found).toEqual([]);
    expect(await readdir(cacheDir)).toEqual([`${artifact.codeSha256}.mjs`]);
  });

  it('take their process from StepServices.runners when the engine keeps warm runners', async () => {
    const cacheDir = join(dir.path, 'warm-cache');
    const runners = new RunnerPool({ size: 1 });
    try {
      await runners.warm({
        launcher: nodeRunnerLauncher,
        codePath: await cachedCodePath(artifact, cacheDir),
        plugin: artifact.manifest.id,
      });
      const [warm] = runners.idle();
      const found = await callPlugin(services({ cacheDir }, runners), context('op-2'), {
        pluginId: 'plugin-direct',
        operation: 'discovery.repository',
        args: { sourceConnection },
      });
      expect(found).toEqual([]);
      expect(warm?.loaded).toBe(true);
      expect(runners.idle().map((runner) => runner.pid)).not.toContain(warm?.pid);
    } finally {
      await runners.close();
    }
  });
});
