// Per-invocation cost of running a plugin operation in a child process of its own, for a no-op operation, three ways
// measured in the same run and interleaved sample by sample (so that the shared machine's load hits them alike):
// - cold: a process started for the call (fork, import of the cached bundle, IPC round trip, schema checks, kill and
//   reap);
// - warm: a runner the pool started ahead, which has imported the bundle (IPC round trip, schema checks, kill and
//   reap); before each warm sample the pool is full again, its refill is not timed (what a call finds when calls are
//   not back to back), and a separate series times calls back to back, where the pool may be refilling;
// - the baseline: a bare fork of node answering one IPC message.
// The operation's own work is calling the no-op function in-process, timed too. Uses the compiled invoker (dist/,
// what the engine runs), and the TypeScript sources under tsx (what tests run) for the cold path as well.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeTempDir } from '../test/harness/temp-dir.js';
import { NOOP_START_ARGS, UNUSED_SERVICES } from './lib/noop-operation.js';
import { makeArtifact } from '../test/fixtures/plugins/make-artifact.js';
import * as sourceOperations from '../operations/index.js';
import { cachedCodePath } from '../operations/invoker/index.js';
import { round, summarize, timeEach } from './lib/stats.js';

const WARMUP = 10;
const SAMPLES = 150;
const SOURCE_SAMPLES = 40;
const IN_PROCESS_SAMPLES = 10_000;

type Operations = typeof sourceOperations;
type Invoker = typeof import('../operations/invoker/index.js');

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

const load = () => loadavg().map((value) => round(value, 2));

export default async function invoke() {
  const temp = await makeTempDir('bench-invoke');
  const loadAtStart = load();
  try {
    const artifact = await makeArtifact({ entry: 'noop-plugin.ts' });
    const services = UNUSED_SERVICES;
    const args = NOOP_START_ARGS;
    const cacheDir = join(temp.path, 'cache');
    const run = (operations: Operations, i: number, runners?: sourceOperations.RunnerPool) =>
      operations.invokePlugin({
        artifact,
        operation: 'virtual.start',
        args,
        operationId: `bench-${i}`,
        services,
        cacheDir,
        ...(runners ? { runners } : {}),
      });

    const readyScript = join(temp.path, 'ready.mjs');
    await writeFile(readyScript, "process.send({ type: 'ready' });\n");

    // The operation's own work: the no-op function called in this process.
    const codePath = await cachedCodePath(artifact, cacheDir);
    const plugin = (
      (await import(pathToFileURL(codePath).href)) as { default: { virtual: { start: (a: unknown) => unknown } } }
    ).default;
    const inProcess = summarize(
      await timeEach(IN_PROCESS_SAMPLES, async () => {
        await plugin.virtual.start(args);
      }),
    );

    const distIndex = join(root, 'dist', 'operations', 'index.js');
    const distInvoker = join(root, 'dist', 'operations', 'invoker', 'index.js');
    const dist = existsSync(distIndex) ? ((await import(pathToFileURL(distIndex).href)) as Operations) : null;
    const invoker = dist ? ((await import(pathToFileURL(distInvoker).href)) as Invoker) : null;

    const samples = { fork: [] as number[], cold: [] as number[], warm: [] as number[] };
    let backToBack = null;
    if (dist && invoker) {
      const pool = new dist.RunnerPool();
      const code = {
        launcher: dist.nodeRunnerLauncher,
        codePath: await invoker.cachedCodePath(artifact, cacheDir),
        plugin: artifact.manifest.id,
      };
      const timed = async (fn: () => Promise<unknown>) => {
        const start = performance.now();
        await fn();
        return performance.now() - start;
      };
      try {
        for (let i = 0; i < WARMUP + SAMPLES; i += 1) {
          await pool.warm(code);
          const sample = {
            fork: await timed(() => bareFork(readyScript)),
            cold: await timed(() => run(dist, i)),
            warm: await timed(() => run(dist, i, pool)),
          };
          if (i < WARMUP) continue;
          samples.fork.push(sample.fork);
          samples.cold.push(sample.cold);
          samples.warm.push(sample.warm);
        }
        await pool.warm(code);
        backToBack = summarize(await timeEach(SAMPLES, (i) => run(dist, i, pool)));
      } finally {
        await pool.close();
      }
    } else {
      await timeEach(WARMUP, () => bareFork(readyScript));
      samples.fork = await timeEach(SAMPLES, () => bareFork(readyScript));
    }
    const baseline = summarize(samples.fork);
    const compiled = dist ? summarize(samples.cold) : null;
    const warm = dist ? summarize(samples.warm) : null;

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
        'invokePlugin of a no-op operation (virtual.start): a process started for the call (cold) and a warm runner from the pool, against a bare fork of node answering one IPC message, interleaved in one run; latency in ms',
      loadAverage: { atStart: loadAtStart, atEnd: load() },
      noOpInProcess: inProcess,
      bareForkBaseline: baseline,
      invokeCompiled: compiled ?? 'dist/ not built: run `node scripts/setup.mjs`',
      invokeWarm: warm ?? 'dist/ not built: run `node scripts/setup.mjs`',
      invokeWarmBackToBack: backToBack,
      invokeUnderTsx: underTsx,
      defaultedOperation: defaulted,
      warmOverWorkP50: warm ? round(warm.p50 - inProcess.p50, 2) : null,
      warmTargetP50Ms: 10,
      coldOverForkP50: compiled ? round(compiled.p50 - baseline.p50, 2) : null,
      warmToColdP50: warm && compiled ? round(warm.p50 / compiled.p50, 3) : null,
      warmToForkP50: warm ? round(warm.p50 / baseline.p50, 3) : null,
      coldToForkP50: compiled ? round(compiled.p50 / baseline.p50, 2) : null,
      coldToForkP99: compiled ? round(compiled.p99 / baseline.p99, 2) : null,
    };
  } finally {
    await temp.remove();
  }
}
