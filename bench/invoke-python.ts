// Per-invocation cost of a Python (vSDK) plugin's no-op operation (virtual.start), beside the TypeScript figure, all
// measured in the same run and interleaved sample by sample (so that the shared machine's load hits them alike):
// - python cold: a `python3 -I -u` runner started for the call (interpreter start, dlpx.virtualization and the plugin
//   imported, generated.definitions made, IPC round trip, schema checks, kill and reap);
// - python warm: a runner the pool started ahead (refilled before each sample, untimed);
// - the baseline: a bare `python3 -I -c pass` (start and exit of the interpreter);
// - TypeScript cold and warm: bench/invoke's no-op plugin, the same way.
// Uses the compiled invoker (dist/, what the engine runs): build first.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeTempDir } from '../test/harness/temp-dir.js';
import { NOOP_START_ARGS, UNUSED_SERVICES } from './lib/noop-operation.js';
import { makeArtifact, makePythonArtifact } from '../test/fixtures/plugins/make-artifact.js';
import type * as sourceOperations from '../operations/index.js';
import { round, summarize } from './lib/stats.js';

const WARMUP = 5;
const SAMPLES = 60;

type Operations = typeof sourceOperations;
type Invoker = typeof import('../operations/invoker/index.js');

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const load = () => loadavg().map((value) => round(value, 2));

/** `python3 -I -c pass`: an interpreter started and gone. */
function barePython(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-I', '-c', 'pass'], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '' } });
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export default async function invokePython() {
  const distIndex = join(root, 'dist', 'operations', 'index.js');
  if (!existsSync(distIndex))
    throw new Error('dist/ is not built: run `npx tsc -p tsconfig.build.json && node scripts/copy-assets.mjs`');
  const dist = (await import(pathToFileURL(distIndex).href)) as Operations;
  const invoker = (await import(
    pathToFileURL(join(root, 'dist', 'operations', 'invoker', 'index.js')).href
  )) as Invoker;
  const temp = await makeTempDir('bench-invoke-python');
  const loadAtStart = load();
  const pool = new dist.RunnerPool();
  try {
    const python = await makePythonArtifact({ srcDir: 'python-noop/src', operations: ['virtual.start'] });
    const typescript = await makeArtifact({ entry: 'noop-plugin.ts' });
    const services = UNUSED_SERVICES;
    const args = NOOP_START_ARGS;
    const cacheDir = join(temp.path, 'cache');
    const run = (artifact: sourceOperations.PluginArtifact, i: number, runners?: sourceOperations.RunnerPool) =>
      dist.invokePlugin({
        artifact,
        operation: 'virtual.start',
        args,
        operationId: `bench-${i}`,
        services,
        cacheDir,
        ...(runners ? { runners } : {}),
      });
    const codeOf = async (artifact: sourceOperations.PluginArtifact) => ({
      launcher: dist.RUNNER_LAUNCHERS[artifact.manifest.language],
      codePath: await invoker.cachedCodePath(artifact, cacheDir),
      plugin: artifact.manifest.id,
    });
    const pythonCode = await codeOf(python);
    const typescriptCode = await codeOf(typescript);
    const samples = {
      barePython: [] as number[],
      pythonCold: [] as number[],
      pythonWarm: [] as number[],
      typescriptCold: [] as number[],
      typescriptWarm: [] as number[],
    };
    for (let i = 0; i < WARMUP + SAMPLES; i += 1) {
      await pool.warm(pythonCode);
      await pool.warm(typescriptCode);
      const sample = {
        barePython: await timed(barePython),
        pythonCold: await timed(() => run(python, i)),
        pythonWarm: await timed(() => run(python, i, pool)),
        typescriptCold: await timed(() => run(typescript, i)),
        typescriptWarm: await timed(() => run(typescript, i, pool)),
      };
      if (i < WARMUP) continue;
      for (const key of Object.keys(samples) as (keyof typeof samples)[]) samples[key].push(sample[key]);
    }
    const figures = Object.fromEntries(
      Object.entries(samples).map(([key, values]) => [key, summarize(values)]),
    ) as Record<keyof typeof samples, ReturnType<typeof summarize>>;
    return {
      description:
        "invokePlugin of a Python plugin's no-op operation (virtual.start), cold and warm, against a bare `python3 -I -c pass`, beside a TypeScript plugin's no-op, interleaved in one run; latency in ms",
      loadAverage: { atStart: loadAtStart, atEnd: load() },
      /** The python3 on PATH, which the runner uses (a pyenv shim, say, adds its own start-up to every cold call). */
      python: execFileSync('python3', ['-c', 'import sys; print(sys.executable, sys.version.split()[0])'], {
        encoding: 'utf8',
      }).trim(),
      ...figures,
      pythonColdOverBareP50: round(figures.pythonCold.p50 - figures.barePython.p50, 2),
      pythonColdToBareP50: round(figures.pythonCold.p50 / figures.barePython.p50, 2),
      pythonWarmToColdP50: round(figures.pythonWarm.p50 / figures.pythonCold.p50, 3),
      pythonToTypescriptColdP50: round(figures.pythonCold.p50 / figures.typescriptCold.p50, 2),
      pythonToTypescriptWarmP50: round(figures.pythonWarm.p50 / figures.typescriptWarm.p50, 2),
    };
  } finally {
    await pool.close();
    await temp.remove();
  }
}
