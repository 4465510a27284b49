// Per-step overhead of the durable engine against a raw BullMQ add-to-completion round trip, same Redis, same run.
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { defineLifecycle } from '../machines/index.js';
import { parseRedisUrl } from '../model/redis-target.js';
import { DurableEngine } from '../workers/durable-engine.js';
import { startRedisServer } from '../test/harness/redis-server.js';
import { must } from '../test/harness/must.js';
import { busyCore, cpuMeter, loadAverage } from './lib/cpu-time.js';

const STEPS = 10;
/** Raw and dvx are measured in alternating rounds, so that load from elsewhere on a shared machine hits both alike. */
const ROUNDS = 9;
/** First rounds of each, not counted: both sides are measured with their code compiled by the JIT, as in a running engine. */
const WARMUP_ROUNDS = 2;
const SEQUENTIAL_RUNS = 40;
const RAW_ROUND_TRIPS = 400;
const THROUGHPUT_RUNS = 200;

const noopLifecycle = defineLifecycle<{ runId: string }>({
  kind: 'bench-noop',
  version: 1,
  description: `${STEPS} steps that do nothing`,
  steps: Array.from({ length: STEPS }, (_, i) => ({ id: `s${i}`, src: 'bench.noop', input: () => ({}) })),
});

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return must(sorted[index], 'sorted[index]');
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 1000) / 1000;
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

async function rawBullmq(url: string, redisPid: number, round: number, withThroughput: boolean) {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(`bench-raw-${round}`, { connection, prefix: 'bench' });
  const waiters = new Map<string, (at: number) => void>();
  const worker = new Worker(`bench-raw-${round}`, async () => null, { connection, prefix: 'bench', concurrency: 1 });
  worker.on('completed', (job) => waiters.get(must(job.id, 'job.id'))?.(performance.now()));
  await worker.waitUntilReady();
  const samples: number[] = [];
  const cpu = cpuMeter({ engine: process.pid, redis: redisPid });
  for (let i = 0; i < RAW_ROUND_TRIPS + 50; i += 1) {
    const id = `raw-${i}`;
    const done = new Promise<number>((resolve) => waiters.set(id, resolve));
    const start = performance.now();
    await queue.add('noop', {}, { jobId: id, removeOnComplete: true });
    const end = await done;
    if (i >= 50) samples.push(end - start);
  }
  const cpuUs = perUnit(cpu(), RAW_ROUND_TRIPS + 50);
  // Throughput: jobs through one worker at the engine's concurrency.
  if (round < ROUNDS - 1 || !withThroughput) {
    await worker.close();
    await queue.close();
    connection.disconnect();
    return { samples, cpuUs, jobsPerSecond: null };
  }
  const total = THROUGHPUT_RUNS * STEPS;
  let completed = 0;
  const allDone = new Promise<void>((resolve) => worker.on('completed', () => ++completed === total && resolve()));
  worker.concurrency = 16;
  const t0 = performance.now();
  await queue.addBulk(
    Array.from({ length: total }, (_, i) => ({
      name: 'noop',
      data: {},
      opts: { jobId: `tp-${i}`, removeOnComplete: true },
    })),
  );
  await allDone;
  const jobsPerSecond = total / ((performance.now() - t0) / 1000);
  await worker.close();
  await queue.close();
  connection.disconnect();
  return { samples, cpuUs, jobsPerSecond: Math.round(jobsPerSecond) };
}

async function dvxEngine(url: string, redisPid: number, round: number, withThroughput: boolean) {
  const stepStarts = new Map<string, number[]>();
  const engine = await DurableEngine.start({
    redis: parseRedisUrl(url),
    lifecycles: [noopLifecycle],
    handlers: {
      'bench.noop': async (_input: unknown, context: { runId: string }) => {
        const list = stepStarts.get(context.runId) ?? [];
        list.push(performance.now());
        stepStarts.set(context.runId, list);
        return null;
      },
    },
  });
  const endedRuns = new Set<string>();
  const waiters = new Map<string, () => void>();
  engine.driver.events.on('ended', (runId) => {
    endedRuns.add(runId);
    waiters.get(runId)?.();
  });
  const waitEnded = (runId: string) =>
    endedRuns.has(runId) ? Promise.resolve() : new Promise<void>((resolve) => waiters.set(runId, resolve));
  const perStep: number[] = [];
  const perRun: number[] = [];
  const cpu = cpuMeter({ engine: process.pid, redis: redisPid });
  for (let i = 0; i < SEQUENTIAL_RUNS + 5; i += 1) {
    const t0 = performance.now();
    const run = await engine.driver.start('bench-noop', {}, { objectType: 'bench', objectId: `seq-${round}-${i}` });
    await waitEnded(run.id);
    const elapsed = performance.now() - t0;
    if (i < 5) continue;
    perRun.push(elapsed);
    const starts = must(stepStarts.get(run.id), 'stepStarts.get(run.id)');
    for (let s = 1; s < starts.length; s += 1)
      perStep.push(must(starts[s], 'starts[s]') - must(starts[s - 1], 'starts[s - 1]'));
  }
  const cpuUs = perUnit(cpu(), (SEQUENTIAL_RUNS + 5) * STEPS);
  if (round < ROUNDS - 1 || !withThroughput) {
    await engine.stop();
    return { perStep, perRun, cpuUs, stepsPerSecond: null };
  }
  const t0 = performance.now();
  const runs = await Promise.all(
    Array.from({ length: THROUGHPUT_RUNS }, (_, i) =>
      engine.driver.start('bench-noop', {}, { objectType: 'bench', objectId: `tp-${i}` }),
    ),
  );
  await Promise.all(runs.map((run) => waitEnded(run.id)));
  const stepsPerSecond = (THROUGHPUT_RUNS * STEPS) / ((performance.now() - t0) / 1000);
  await engine.stop();
  return { perStep, perRun, cpuUs, stepsPerSecond: Math.round(stepsPerSecond) };
}

function perUnit(totals: Record<string, number>, units: number): Record<string, number> {
  return Object.fromEntries(Object.entries(totals).map(([name, us]) => [name, us / units]));
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Alternating rounds of raw BullMQ and dvx against one Redis, under whatever load the machine has. */
async function alternatingRounds(url: string, redisPid: number, withThroughput: boolean) {
  const rawSamples: number[] = [];
  const perStep: number[] = [];
  const perRun: number[] = [];
  const roundRatios: number[] = [];
  const rawP50ByRound: number[] = [];
  const dvxP50ByRound: number[] = [];
  const rawCpu: Record<string, number>[] = [];
  const dvxCpu: Record<string, number>[] = [];
  const loads: number[] = [];
  let jobsPerSecond = 0;
  let stepsPerSecond = 0;
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round += 1) {
    const raw = await rawBullmq(url, redisPid, round, withThroughput);
    const dvx = await dvxEngine(url, redisPid, round, withThroughput);
    if (round < 0) continue;
    loads.push(loadAverage());
    rawSamples.push(...raw.samples);
    perStep.push(...dvx.perStep);
    perRun.push(...dvx.perRun);
    rawCpu.push(raw.cpuUs);
    dvxCpu.push(dvx.cpuUs);
    rawP50ByRound.push(stats(raw.samples).p50);
    dvxP50ByRound.push(stats(dvx.perStep).p50);
    roundRatios.push(stats(dvx.perStep).p50 / stats(raw.samples).p50);
    if (raw.jobsPerSecond !== null) jobsPerSecond = raw.jobsPerSecond;
    if (dvx.stepsPerSecond !== null) stepsPerSecond = dvx.stepsPerSecond;
  }
  const medianOf = (values: number[]) =>
    must([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)], 'median');
  const cpuMedian = (rounds: Record<string, number>[]) => ({
    engine: Math.round(medianOf(rounds.map((r) => r.engine ?? 0))),
    redis: Math.round(medianOf(rounds.map((r) => r.redis ?? 0))),
  });
  const rawCpuUs = cpuMedian(rawCpu);
  const dvxCpuUs = cpuMedian(dvxCpu);
  const rawStats = stats(rawSamples);
  const dvxStats = stats(perStep);
  return {
    loadAverage: { min: Math.min(...loads), max: Math.max(...loads) },
    rawBullmq: { roundTripMs: rawStats, cpuUsPerRoundTrip: rawCpuUs, jobsPerSecond },
    dvx: { perStepMs: dvxStats, perRunMs: stats(perRun), cpuUsPerStep: dvxCpuUs, stepsPerSecond },
    ratioP50: round2(dvxStats.p50 / rawStats.p50),
    ratioP50MedianOfRounds: round2(medianOf(roundRatios)),
    ratioP50ByRound: roundRatios.map(round2),
    p50ByRoundMs: { rawBullmq: rawP50ByRound, dvx: dvxP50ByRound },
    ratioP99: round2(dvxStats.p99 / rawStats.p99),
    cpuRatio: {
      engine: round2(dvxCpuUs.engine / rawCpuUs.engine),
      redis: round2(dvxCpuUs.redis / rawCpuUs.redis),
    },
    throughputRatio: withThroughput ? round2(jobsPerSecond / stepsPerSecond) : null,
  };
}

export default async function overhead() {
  const redis = await startRedisServer();
  try {
    const redisPid = must(redis.pid(), 'redis.pid()');
    const quiet = await alternatingRounds(redis.url, redisPid, true);
    const load = busyCore();
    let oneCoreBusy: Awaited<ReturnType<typeof alternatingRounds>>;
    try {
      oneCoreBusy = await alternatingRounds(redis.url, redisPid, false);
    } finally {
      await load.stop();
    }
    return {
      description: `${STEPS}-step lifecycle of no-op steps vs raw BullMQ add->complete round trips, ${ROUNDS} alternating rounds after ${WARMUP_ROUNDS} warm-up rounds; Redis with AOF everysec on loopback. Measured twice: as the machine is, then while a second process of the bench keeps one core busy. CPU time is per step (per raw round trip), run start and end included, median of the rounds, from /proc schedstat.`,
      asTheMachineIs: quiet,
      oneCoreBusy,
      target:
        'per-step p50 within 1.3x of the raw round trip on a quiet machine and within 1.5x with one core busy, judged on the median of the rounds (each round compares the two under the same load)',
      targetMet: quiet.ratioP50MedianOfRounds <= 1.3 && oneCoreBusy.ratioP50MedianOfRounds <= 1.5,
    };
  } finally {
    await redis.remove();
  }
}
