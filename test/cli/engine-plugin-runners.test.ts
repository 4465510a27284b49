// The engine's warm plugin runners: kept for the plugin calls of its steps, and reaped when the engine stops.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startEngineRuntime, type EngineRuntimeOptions } from '../../cli/engine-runtime.js';
import { silentLogger } from '../../log/logger.js';
import { ReflinkBackend } from '../../storage/index.js';
import type { StepContext } from '../../workers/step-handler.js';
import { createStepHandlers, type StepServices } from '../../workers/steps/index.js';
import { callPlugin } from '../../workers/steps/plugin-call.js';
import { makeArtifact } from '../fixtures/plugins/make-artifact.js';
import { must } from '../harness/must.js';
import { startRedisServer } from '../harness/redis-server.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait-for.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The runner processes among this process's children. */
async function runnerChildren(): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)]).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  return stdout.split('\n').filter((line) => line.includes('plugin-runner'));
}

const context: StepContext = {
  runId: 'run-1',
  stepId: 'configure',
  src: 'plugin.virtual.configure',
  operationId: 'op-1',
  attempt: 1,
  signal: new AbortController().signal,
  logger: silentLogger,
};
const connection = {
  environment: { name: 'h', reference: 'env-1', host: { hostname: 'h', scratchPath: '/tmp' } },
  user: { name: 'root', reference: 'env-1' },
};
const args = {
  virtualSource: { guid: 'vdb', connection, parameters: { mountLocation: '/mnt' }, mounts: [] },
  snapshot: {},
  repository: { name: 'r', root: '/' },
};

/** An engine with the warm test plugin uploaded; its step services, as its steps get them. */
async function engineWithPlugin(plugins: EngineRuntimeOptions['plugins'] = {}) {
  const temp = await makeTempDir('engine-runners');
  cleanups.push(() => temp.remove());
  const redis = await startRedisServer();
  cleanups.push(() => redis.remove());
  let steps: StepServices | undefined;
  const runtime = await startEngineRuntime({
    dataDir: join(temp.path, 'data'),
    redisUrl: redis.url,
    port: 0,
    logger: silentLogger,
    storage: new ReflinkBackend({ root: join(temp.path, 'pool') }),
    health: false,
    plugins,
    handlers: ({ steps: services }) => {
      steps = services;
      return createStepHandlers(services);
    },
  });
  cleanups.push(() => runtime.stop());
  const artifact = await makeArtifact({ entry: 'warm-plugin.ts' });
  await runtime.ctx.model.plugins.create({
    id: 'plugin-warm',
    name: 'warm',
    buildNumber: '1',
    externalVersion: null,
    pluginType: 'STAGED',
    artifactHash: artifact.codeSha256,
    uploadedBy: 'test',
  });
  await runtime.ctx.model.putPluginArtifact('plugin-warm', artifact);
  const services = must(steps, 'the step services');
  const configure = async () => {
    const output = await callPlugin(services, context, {
      pluginId: 'plugin-warm',
      operation: 'virtual.configure',
      args,
    });
    return (JSON.parse(String(output.name)) as { pid: number }).pid;
  };
  return { runtime, services, configure };
}

describe('the engine’s plugin runners', () => {
  it('keeps warm runners for the plugin its steps call, and reaps every one of them when it stops', async () => {
    const { runtime, services, configure } = await engineWithPlugin();
    const runners = must(services.runners, 'the engine’s runner pool');
    const first = await configure();
    const warm = await waitFor('two warm runners', () => {
      const idle = runners.idle();
      return idle.length === 2 && idle.every((runner) => runner.loaded) ? idle.map((runner) => runner.pid) : null;
    });
    const second = await configure();
    expect(warm).toContain(second);
    for (const pid of [first, second]) expect(alive(pid)).toBe(false);
    const idle = runners.idle().map((runner) => runner.pid);
    expect(idle.length).toBeGreaterThan(0);

    await runtime.stop();
    for (const pid of [...warm, ...idle]) expect(alive(pid), `runner ${pid}`).toBe(false);
    expect(await runnerChildren()).toEqual([]);
  });

  it('starts a process for each plugin call when warm runners are off', async () => {
    const { services, configure } = await engineWithPlugin({ warmRunners: false });
    expect(services.runners).toBeUndefined();
    const pid = await configure();
    expect(alive(pid)).toBe(false);
    expect(await runnerChildren()).toEqual([]);
  });
});
