import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { silentLogger, type Logger } from '../log/logger.js';
import type { DvxModel } from '../model/dvx-model.js';
import type { RunStatus } from '../model/run-record.js';
import type { PoolSpace } from '../storage/index.js';
import type { RunDriver } from '../workers/run-driver.js';

/** Job states whose counts are exported per queue. */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
/** Runtime states always exported per object type, at 0 when no object is in them. */
const OBJECT_STATES = ['ACTIVE', 'INACTIVE', 'UNREACHABLE', 'UNKNOWN'];

/** Step duration buckets, in seconds: steps last from milliseconds (a storage snapshot) to an hour (a big sync). */
const STEP_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** What {@link EngineMetrics} watches. */
export interface EngineMetricsOptions {
  /** Runs that end and steps that complete in this process are counted (the driver's events). */
  driver: RunDriver;
  model: DvxModel;
  /** The storage pool and its free-space floor. */
  space: PoolSpace;
  /** Queues whose depths are read at each scrape. */
  queues: Queue[];
  logger?: Logger;
}

/**
 * The engine's Prometheus metrics, in a registry of its own:
 * - `dvx_runs_total{kind,outcome}`: runs that ended here (succeeded, failed, cancelled);
 * - `dvx_step_duration_seconds{kind,step,outcome}`: how long the last attempt of each completed step took;
 * - `dvx_queue_jobs{queue,state}`: jobs waiting, active, delayed and failed per queue, read at scrape;
 * - `dvx_objects{type,status}`: dSources, VDBs and environments by the health monitor's runtime status, read at scrape;
 * - `dvx_storage_pool_bytes{backend,usage}`: the pool's total, used and free bytes, read at scrape;
 * - `dvx_storage_pool_free_bytes{backend}` and `dvx_storage_pool_floor_bytes{backend}`: its free space and the floor
 *   below which new snapshots and clones are refused (alert on free < floor), read at scrape.
 * Counters and the histogram count what the driver of this process applied: with several engines, sum them.
 */
export class EngineMetrics {
  readonly registry = new Registry();
  private readonly detach: () => void;

  constructor(options: EngineMetricsOptions) {
    const logger = options.logger ?? silentLogger;
    const registers = [this.registry];
    const runs = new Counter({
      name: 'dvx_runs_total',
      help: 'Lifecycle runs that ended, by kind and outcome.',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    const stepDuration = new Histogram({
      name: 'dvx_step_duration_seconds',
      help: 'Duration of the attempt that completed a lifecycle step, by run kind, step and outcome (done or error).',
      labelNames: ['kind', 'step', 'outcome'],
      buckets: STEP_BUCKETS,
      registers,
    });
    /** A gauge set afresh at each scrape by `read`; a failing read is logged and leaves the gauge empty or partial. */
    const scraped = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      what: string,
      read: (gauge: Gauge<L>) => Promise<void>,
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          this.reset();
          await read(this).catch((error: unknown) =>
            logger.warn({ err: (error as Error).message }, `metrics: could not read ${what}`),
          );
        },
      });

    scraped(
      'dvx_queue_jobs',
      'Jobs per BullMQ queue and state, read at scrape.',
      ['queue', 'state'],
      'queue depths',
      async (gauge) => {
        await Promise.all(
          options.queues.map(async (queue) => {
            const counts = await queue.getJobCounts(...QUEUE_STATES);
            for (const state of QUEUE_STATES) gauge.set({ queue: queue.name, state }, counts[state] ?? 0);
          }),
        );
      },
    );

    scraped(
      'dvx_objects',
      'dSources, VDBs and environments by runtime status (ACTIVE, INACTIVE, UNREACHABLE; UNKNOWN before the first health check), read at scrape.',
      ['type', 'status'],
      'objects',
      async (gauge) => {
        const { dsources, vdbs, environments } = options.model;
        const [dsourceList, vdbList, environmentList] = await Promise.all([
          dsources.list(),
          vdbs.list(),
          environments.list(),
        ]);
        const kinds: [string, { runtime?: { state: string } | null }[]][] = [
          ['dsource', dsourceList],
          ['vdb', vdbList],
          ['environment', environmentList],
        ];
        kinds.forEach(([type, records]) => {
          const counts = new Map<string, number>(OBJECT_STATES.map((status) => [status, 0]));
          for (const record of records) {
            const status = record.runtime?.state ?? 'UNKNOWN';
            counts.set(status, (counts.get(status) ?? 0) + 1);
          }
          for (const [status, count] of counts) gauge.set({ type, status }, count);
        });
      },
    );

    scraped(
      'dvx_storage_pool_bytes',
      'Storage pool space in bytes (total, used, free), read at scrape.',
      ['backend', 'usage'],
      'storage usage',
      async (gauge) => {
        const usage = await options.space.storage.usage();
        const backend = options.space.storage.kind;
        gauge.set({ backend, usage: 'total' }, usage.totalBytes);
        gauge.set({ backend, usage: 'used' }, usage.usedBytes);
        gauge.set({ backend, usage: 'free' }, usage.freeBytes);
      },
    );

    scraped(
      'dvx_storage_pool_free_bytes',
      'Storage pool free space in bytes (what a write can still use), read at scrape.',
      ['backend'],
      'storage free space',
      async (gauge) => gauge.set({ backend: options.space.storage.kind }, (await options.space.report()).freeBytes),
    );

    scraped(
      'dvx_storage_pool_floor_bytes',
      'Free space below which new snapshots, clones and provisions are refused, in bytes, read at scrape.',
      ['backend'],
      'storage free-space floor',
      async (gauge) => gauge.set({ backend: options.space.storage.kind }, (await options.space.report()).floorBytes),
    );

    // Node's process metrics (CPU, memory, event loop).
    collectDefaultMetrics({ register: this.registry });

    const onEnded = (_runId: string, kind: string, status: RunStatus) => runs.inc({ kind, outcome: status });
    const onStepEnded = (
      _runId: string,
      kind: string,
      step: string,
      outcome: 'done' | 'error',
      durationMs?: number,
    ) => {
      if (durationMs !== undefined) stepDuration.observe({ kind, step, outcome }, durationMs / 1000);
    };
    options.driver.events.on('ended', onEnded);
    options.driver.events.on('stepEnded', onStepEnded);
    this.detach = () => {
      options.driver.events.off('ended', onEnded);
      options.driver.events.off('stepEnded', onStepEnded);
    };
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /** Stops counting the driver's events. */
  close(): void {
    this.detach();
    this.registry.clear();
  }
}
