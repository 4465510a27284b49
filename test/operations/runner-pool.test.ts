// The warm runner pool: runners started ahead of calls, one operation per process, keyed by the plugin's code.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  invokePlugin,
  nodeRunnerLauncher,
  RunnerPool,
  type PlatformServices,
  type PluginArtifact,
  type RunnerCode,
  type WarmRunnerOptions,
} from '../../operations/index.js';
import { cachedCodePath } from '../../operations/invoker/index.js';
import type { Logger } from '../../log/logger.js';
import { makeArtifact } from '../fixtures/plugins/make-artifact.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait-for.js';
import { createHash } from 'node:crypto';

let temp: { path: string; remove(): Promise<void> };
let v1: PluginArtifact;
let v2: PluginArtifact;
const pools: RunnerPool[] = [];

const services: PlatformServices = {
  runBash: () => Promise.reject(new Error('not used')),
  runExpect: () => Promise.reject(new Error('not used')),
  runSync: () => Promise.reject(new Error('not used')),
  retrieveCredentials: () => Promise.reject(new Error('not used')),
  log: () => undefined,
};
const connection = {
  environment: { name: 'h', reference: 'env', host: { hostname: 'h', scratchPath: '/tmp' } },
  user: { name: 'root', reference: 'env' },
};
const args = {
  virtualSource: { guid: 'vdb', connection, parameters: { mountLocation: '/mnt' }, mounts: [] },
  snapshot: {},
  repository: { name: 'r', root: '/' },
};

/** What the warm plugin's virtual.configure tells of the process that ran it. */
interface Seen {
  pid: number;
  version: string;
  /** Operations that ran in that process, this one included. */
  calls: number;
  /** What an earlier operation left in a global. */
  seen: string;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function newPool(options: WarmRunnerOptions = {}): RunnerPool {
  const pool = new RunnerPool(options);
  pools.push(pool);
  return pool;
}

async function codeOf(artifact: PluginArtifact): Promise<RunnerCode> {
  return {
    launcher: nodeRunnerLauncher,
    codePath: await cachedCodePath(artifact, join(temp.path, 'cache')),
    plugin: artifact.manifest.id,
  };
}

async function configure(artifact: PluginArtifact, runners: RunnerPool | undefined, logger?: Logger): Promise<Seen> {
  const output = (await invokePlugin({
    artifact,
    operation: 'virtual.configure',
    args,
    operationId: 'op-1',
    services,
    ...(logger ? { logger } : {}),
    cacheDir: join(temp.path, 'cache'),
    timeoutMs: 30_000,
    ...(runners ? { runners } : {}),
  })) as { name: string };
  return JSON.parse(output.name) as Seen;
}

const idlePids = (pool: RunnerPool) => pool.idle().map((runner) => runner.pid);

/** The runner processes among this process's children. */
async function runnerChildren(): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)]).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  return stdout.split('\n').filter((line) => line.includes('plugin-runner'));
}

beforeAll(async () => {
  temp = await makeTempDir('runner-pool');
  v1 = await makeArtifact({ entry: 'warm-plugin.ts' });
  // The same plugin, uploaded again with changed code.
  const code = v1.code.replaceAll('version-1', 'version-2');
  expect(code).not.toBe(v1.code);
  v2 = { ...v1, code, codeSha256: createHash('sha256').update(code).digest('hex') };
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

afterAll(async () => {
  await temp?.remove();
});

describe('RunnerPool', () => {
  it('runs a call in a runner started ahead, which had imported the code already', async () => {
    const pool = newPool();
    await pool.warm(await codeOf(v1));
    const ready = pool.idle();
    expect(ready).toHaveLength(2);
    expect(ready.every((runner) => runner.loaded)).toBe(true);
    const seen = await configure(v1, pool);
    expect(ready.map((runner) => runner.pid)).toContain(seen.pid);
    expect(seen).toMatchObject({ version: 'version-1', calls: 1, seen: 'nothing' });
    expect(idlePids(pool)).not.toContain(seen.pid);
    expect(alive(seen.pid)).toBe(false);
  });

  it('logs what the runner wrote at import, before it was given the operation, as that operation’s output', async () => {
    const pool = newPool();
    await pool.warm(await codeOf(v1));
    const lines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(chunk.toString('utf8'));
          callback();
        },
      }),
    );
    await configure(v1, pool, logger);
    expect(lines.join('')).toContain('"stdout":"warm plugin version-1 imported\\n"');
  });

  it('never runs two operations in one process: what one leaves in globals or module state, the next does not see', async () => {
    const pool = newPool({ size: 1 });
    await pool.warm(await codeOf(v1));
    const sequential: Seen[] = [];
    for (let i = 0; i < 4; i += 1) sequential.push(await configure(v1, pool));
    const concurrent = await Promise.all([1, 2, 3, 4].map(() => configure(v1, pool)));
    const all = [...sequential, ...concurrent];
    expect(new Set(all.map((seen) => seen.pid)).size).toBe(all.length);
    for (const seen of all) {
      expect(seen).toMatchObject({ calls: 1, seen: 'nothing' });
      expect(alive(seen.pid)).toBe(false);
    }
  });

  it('starts a replacement for the runner a call took, in the background', async () => {
    const pool = newPool();
    await pool.warm(await codeOf(v1));
    const before = idlePids(pool);
    const seen = await configure(v1, pool);
    const after = await waitFor('the pool to be full again', () => {
      const idle = pool.idle();
      return idle.length === 2 && idle.every((runner) => runner.loaded) ? idle.map((runner) => runner.pid) : null;
    });
    expect(after).not.toContain(seen.pid);
    expect(after.filter((pid) => !before.includes(pid))).toHaveLength(1);
    // The replacement serves the next call.
    expect(after).toContain((await configure(v1, pool)).pid);
  });

  it('never gives a call for a new version of a plugin a runner of the old one, and stops those', async () => {
    const pool = newPool();
    await pool.warm(await codeOf(v1));
    const old = idlePids(pool);
    expect(old).toHaveLength(2);
    const seen = await configure(v2, pool);
    expect(seen.version).toBe('version-2');
    expect(old).not.toContain(seen.pid);
    await waitFor('the old version’s runners to be gone', () => old.every((pid) => !alive(pid)), 10_000);
    const v2Path = (await codeOf(v2)).codePath;
    await waitFor('runners of the new version', () => pool.idle().length === 2);
    expect(pool.idle().every((runner) => runner.codePath === v2Path)).toBe(true);
  });

  it('never hands out a runner that died while idle, and replaces it', async () => {
    const pool = newPool();
    await pool.warm(await codeOf(v1));
    // Killed just before the call: the pool has not seen them exit when the call takes one.
    const killed = idlePids(pool);
    for (const pid of killed) process.kill(pid, 'SIGKILL');
    const seen = await configure(v1, pool);
    expect(killed).not.toContain(seen.pid);
    expect(seen).toMatchObject({ version: 'version-1', calls: 1 });
    const replaced = await waitFor('the dead runners to be replaced', () => {
      const idle = pool.idle();
      return idle.length === 2 && idle.every((runner) => runner.loaded) ? idle.map((runner) => runner.pid) : null;
    });
    expect(replaced.filter((pid) => killed.includes(pid))).toEqual([]);
    // Killed while the pool is looking: dropped and replaced before any call comes.
    const victim = replaced[0] ?? 0;
    process.kill(victim, 'SIGKILL');
    await waitFor('the pool to drop and replace it', () => {
      const idle = idlePids(pool);
      return idle.length === 2 && !idle.includes(victim);
    });
    expect((await configure(v1, pool)).pid).not.toBe(victim);
  });

  it('stops idle runners and those still starting on close, and waits until they are reaped', async () => {
    const code = await codeOf(v1);
    const pool = newPool();
    await pool.warm(code);
    const loaded = idlePids(pool);
    expect(loaded).toHaveLength(2);
    await pool.close();
    for (const pid of loaded) expect(alive(pid), `runner ${pid}`).toBe(false);
    expect(pool.idle()).toEqual([]);
    expect(await runnerChildren()).toEqual([]);

    // Closed while its runners start.
    const starting = newPool();
    const warming = starting.warm(code);
    await new Promise((resolve) => setImmediate(resolve));
    const startingPids = idlePids(starting);
    expect(startingPids).toHaveLength(2);
    expect(starting.idle().some((runner) => !runner.loaded)).toBe(true);
    await starting.close();
    await warming;
    for (const pid of startingPids) expect(alive(pid), `runner ${pid}`).toBe(false);
    expect(await runnerChildren()).toEqual([]);

    // A call after close runs in a process of its own, which is gone with the call.
    const seen = await configure(v1, pool);
    expect(alive(seen.pid)).toBe(false);
    expect(await runnerChildren()).toEqual([]);
  });

  it('stops the runners of a plugin version that had no call for the idle timeout', async () => {
    const pool = newPool({ idleTimeoutMs: 1_000 });
    await pool.warm(await codeOf(v1));
    const pids = idlePids(pool);
    expect(pids).toHaveLength(2);
    await waitFor('the idle runners to be stopped', () => pids.every((pid) => !alive(pid)), 10_000);
    expect(pool.idle()).toEqual([]);
    // The next call starts them again.
    await configure(v1, pool);
    await waitFor('runners started again', () => pool.idle().length === 2);
    // While a call runs, however long, the timeout does not run.
    const held = await pool.take(await codeOf(v1));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const kept = idlePids(pool);
    expect(kept.length).toBeGreaterThan(0);
    held.kill();
    await held.exited;
    await waitFor('the idle runners to be stopped after the call', () => kept.every((pid) => !alive(pid)), 10_000);
  });

  it('keeps no runner with size 0: every call starts its own process', async () => {
    const pool = newPool({ size: 0 });
    await pool.warm(await codeOf(v1));
    const seen = await configure(v1, pool);
    expect(seen).toMatchObject({ calls: 1, seen: 'nothing' });
    expect(pool.idle()).toEqual([]);
    expect(await runnerChildren()).toEqual([]);
  });
});
