// Per-invocation cost of running a plugin operation in a child process (fork, import of the cached bundle, IPC
// round trip, schema checks, kill and reap), for a no-op operation, against the baseline of a bare fork of node that
// answers one IPC message, measured in the same run. Uses the compiled invoker (dist/, what the engine runs) when it
// is there, and the TypeScript sources under tsx (what tests run) as well.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeTempDir } from '../test/harness/temp-dir.js';
import { makeArtifact } from '../test/fixtures/plugins/make-artifact.js';
import * as sourceOperations from '../operations/index.js';
import { round, summarize, timeEach } from './lib/stats.js';

const WARMUP = 10;
const SAMPLES = 150;
const SOURCE_SAMPLES = 40;

type Operations = typeof sourceOperations;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Fork node with an IPC channel, wait for one message from it, kill it and wait for its exit. */
function bareFork(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], {
      execArgv: [],
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      detached: true,
      env: { PATH: process.env.PATH ?? '' },
    });
    child.once('error', reject);
    child.once('message', () => child.kill('SIGKILL'));
    child.once('exit', () => resolve());
  });
}

export default async function invoke() {
  const temp = await makeTempDir('bench-invoke');
  try {
    const artifact = await makeArtifact({ entry: 'noop-plugin.ts' });
    const services: sourceOperations.PlatformServices = {
      runBash: () => Promise.reject(new Error('unused')),
      runExpect: () => Promise.reject(new Error('unused')),
      runSync: () => Promise.reject(new Error('unused')),
      retrieveCredentials: () => Promise.reject(new Error('unused')),
      log: () => undefined,
    };
    const connection = {
      environment: { name: 'h', reference: 'env', host: { hostname: 'h', scratchPath: '/tmp' } },
      user: { name: 'root', reference: 'env' },
    };
    const args = {
      virtualSource: { guid: 'vdb', connection, parameters: { mountLocation: '/mnt' }, mounts: [] },
      repository: { name: 'r', root: '/' },
      sourceConfig: { name: 's', path: '/mnt' },
    };
    const cacheDir = join(temp.path, 'cache');
    const run = (operations: Operations, i: number) =>
      operations.invokePlugin({
        artifact,
        operation: 'virtual.start',
        args,
        operationId: `bench-${i}`,
        services,
        cacheDir,
      });

    const readyScript = join(temp.path, 'ready.mjs');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(readyScript, "process.send({ type: 'ready' });\n");

    const distIndex = join(root, 'dist', 'operations', 'index.js');
    const dist = existsSync(distIndex) ? ((await import(pathToFileURL(distIndex).href)) as Operations) : null;

    await timeEach(WARMUP, () => bareFork(readyScript));
    const fork = summarize(await timeEach(SAMPLES, () => bareFork(readyScript)));
    let compiled = null;
    if (dist) {
      await timeEach(WARMUP, (i) => run(dist, i));
      compiled = summarize(await timeEach(SAMPLES, (i) => run(dist, i)));
    }
    await timeEach(3, (i) => run(sourceOperations, i));
    const underTsx = summarize(await timeEach(SOURCE_SAMPLES, (i) => run(sourceOperations, i)));
    // The default of an operation a plugin leaves out: no process at all.
    const defaulted = summarize(
      await timeEach(SAMPLES, (i) =>
        sourceOperations.invokePlugin({
          artifact,
          operation: 'virtual.status',
          args,
          operationId: `d-${i}`,
          services,
          cacheDir,
        }),
      ),
    );

    return {
      description:
        'invokePlugin of a no-op operation (virtual.start) against a bare fork of node answering one IPC message; latency in ms',
      bareForkBaseline: fork,
      invokeCompiled: compiled ?? 'dist/ not built: run `node scripts/setup.mjs`',
      invokeUnderTsx: underTsx,
      defaultedOperation: defaulted,
      overheadOverForkP50: compiled ? round(compiled.p50 - fork.p50, 2) : null,
      ratioP50: compiled ? round(compiled.p50 / fork.p50, 2) : null,
      ratioP99: compiled ? round(compiled.p99 / fork.p99, 2) : null,
    };
  } finally {
    await temp.remove();
  }
}
