import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { silentLogger, type Logger } from '../log/logger.js';
import type { DvxModel } from '../model/dvx-model.js';
import type { RunStatus } from '../model/run-record.js';
import type { StorageBackend } from '../storage/index.js';
import type { RunDriver } from '../workers/run-driver.js';

/** Job states whose counts are exported per queue. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** Step duration buckets, in seconds: steps last from milliseconds (a storage snapshot) to an hour (a big sync). */
const STEP_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** What {@link EngineMetrics} watches. */
export interface EngineMetricsOptions {
  /** Runs that end and steps that complete in this process are counted (the driver's events). */
  driver: RunDriver;
  model: DvxModel;
  storage: StorageBackend;
  /** Queues whose depths are read at each scrape. */
  queues: Queue[];
  /** Also export Node's process metrics (CPU, memory, event loop). @defaultValue true */
  processMetrics?: boolean;
  logger?: Logger;
}

/**
 * The engine's Prometheus metrics, in a registry of its own:
 * - `dvx_runs_total{kind,outcome}`: runs that ended here (succeeded, failed, cancelled);
 * - `dvx_step_duration_seconds{kind,step,outcome}`: how long the last attempt of each completed step took;
 * - `dvx_queue_jobs{queue,state}`: jobs waiting, active, delayed and failed per queue, read at scrape;
 * - `dvx_objects{type,status}`: dSources, VDBs and environments by the health monitor's runtime status, read at scrape;
 * - `dvx_storage_pool_bytes{backend,usage}`: the pool's total, used and free bytes, read at scrape.
 * Counters and the histogram count what the driver of this process applied: with several engines, sum them.
 */
export class EngineMetrics {
  readonly registry = new Registry();
  readonly runs: Counter<'kind' | 'outcome'>;
  readonly stepDuration: Histogram<'kind' | 'step' | 'outcome'>;
  private readonly detach: () => void;

  constructor(options: EngineMetricsOptions) {
    const logger = options.logger ?? silentLogger;
    const registers = [this.registry];
    this.runs = new Counter({ name: 'dvx_runs_total', help: 'Lifecycle runs that ended, by kind and outcome.', labelNames: ['kind', 'outcome'], registers });
    this.stepDuration = new Histogram({
      name: 'dvx_step_duration_seconds',
      help: 'Duration of the attempt that completed a lifecycle step, by run kind, step and outcome (done or error).',
      labelNames: ['kind', 'step', 'outcome'],
      buckets: STEP_BUCKETS,
      registers,
    });
    const scrapeFailed = (what: string) => (error: unknown) => logger.warn({ err: (error as Error).message }, `metrics: could not read ${what}`);

    new Gauge({
      name: 'dvx_queue_jobs',
      help: 'Jobs per BullMQ queue and state, read at scrape.',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        await Promise.all(
          options.queues.map(async (queue) => {
            const counts = await queue.getJobCounts(...QUEUE_STATES);
            for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
          }),
        ).catch(scrapeFailed('queue depths'));
      },
    });

    new Gauge({
      name: 'dvx_objects',
      help: 'dSources, VDBs and environments by runtime status (ACTIVE, INACTIVE, UNREACHABLE; UNKNOWN before the first health check), read at scrape.',
      labelNames: ['type', 'status'],
      registers,
      async collect() {
        this.reset();
        try {
          const kinds = { dsource: await options.model.dsources.list(), vdb: await options.model.vdbs.list(), environment: await options.model.environments.list() };
          for (const [type, records] of Object.entries(kinds)) {
            const counts = new Map<string, number>([['ACTIVE', 0], ['INACTIVE', 0], ['UNREACHABLE', 0], ['UNKNOWN', 0]]);
            for (const record of records as { runtime?: { state: string } | null }[]) {
              const status = record.runtime?.state ?? 'UNKNOWN';
              counts.set(status, (counts.get(status) ?? 0) + 1);
            }
            for (const [status, count] of counts) this.set({ type, status }, count);
          }
        } catch (error) {
          scrapeFailed('objects')(error);
        }
      },
    });

    new Gauge({
      name: 'dvx_storage_pool_bytes',
      help: 'Storage pool space in bytes (total, used, free), read at scrape.',
      labelNames: ['backend', 'usage'],
      registers,
      async collect() {
        this.reset();
        try {
          const usage = await options.storage.usage();
          const backend = options.storage.kind;
          this.set({ backend, usage: 'total' }, usage.totalBytes);
          this.set({ backend, usage: 'used' }, usage.usedBytes);
          this.set({ backend, usage: 'free' }, usage.freeBytes);
        } catch (error) {
          scrapeFailed('storage usage')(error);
        }
      },
    });

    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });

    const onEnded = (_runId: string, kind: string, status: RunStatus) => this.runs.inc({ kind, outcome: status });
    const onStepEnded = (_runId: string, kind: string, step: string, outcome: 'done' | 'error', durationMs?: number) => {
      if (durationMs !== undefined) this.stepDuration.observe({ kind, step, outcome }, durationMs / 1000);
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
