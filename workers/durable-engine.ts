import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { silentLogger, type Logger } from '../log/logger.js';
import { LIFECYCLES, type Lifecycle } from '../machines/index.js';
import { checkRedis } from '../model/check-redis.js';
import { createRedisClient } from '../model/redis-clients.js';
import { describeRedisTarget, type RedisTarget } from '../model/redis-target.js';
import type { RunStore } from '../model/run-store.js';
import { Reconciler, type ReconcileReport } from './reconciler.js';
import { RetryPolicy, type StepRetryOptions } from './retry-policy.js';
import { RunDriver } from './run-driver.js';
import type { StepHandlers } from './step-handler.js';
import { QUEUE_PREFIX, type StepJobData } from './step-job.js';
import { liveRunCacheFromEnv, openStepChannel } from './step-take-up.js';
import { createStepWorker, type StepWorkerOptions } from './step-worker.js';

export const MAINTENANCE_QUEUE = 'dvx-maintenance';
const RECONCILE_SCHEDULER = 'reconcile';

/** Options of {@link DurableEngine.start}. */
export interface DurableEngineOptions {
  redis: RedisTarget;
  /** Step handlers by name; every step of every lifecycle needs one. */
  handlers: StepHandlers;
  /** @defaultValue every dvx lifecycle */
  lifecycles?: Iterable<Lifecycle<never>>;
  logger?: Logger;
  retry?: StepRetryOptions;
  /** Worker tuning; see {@link StepWorkerOptions}. */
  worker?: Pick<StepWorkerOptions, 'concurrency' | 'lockDurationMs' | 'stalledIntervalMs' | 'maxStalledCount'>;
  /** Run step workers in this process; false for a process that only starts runs. @defaultValue true */
  runWorkers?: boolean;
  /** How often the reconciler runs after the one at start. @defaultValue 30000 */
  reconcileIntervalMs?: number;
  /** Check that Redis is durable (AOF, noeviction, version) before starting. @defaultValue true */
  checkRedis?: boolean;
  /**
   * Keep the runs this engine writes in memory, so that taking up their next step reads nothing back from Redis
   * (see workers/step-take-up.ts). Off, every step is taken up through Redis: slower, for debugging the hot path.
   * @defaultValue true, unless the environment variable `DVX_LIVE_RUN_CACHE` is `off`
   */
  liveRunCache?: boolean;
}

/** Options of {@link DurableEngine.stop}. */
export interface StopOptions {
  /** Running steps get this long to finish; the rest are taken up by the next engine. @defaultValue 30000 */
  deadlineMs?: number;
}

/**
 * The durable workflow engine: the run driver, the step worker, and the reconciler (at start, then on a
 * BullMQ job scheduler), on one Redis. Closing it stops taking steps, lets running ones finish within a
 * deadline, and closes every Redis client it opened.
 */
export class DurableEngine {
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly driver: RunDriver,
    readonly store: RunStore,
    readonly queue: Queue<StepJobData>,
    readonly reconciler: Reconciler,
    readonly startupReport: ReconcileReport,
    private readonly workers: Worker[],
    private readonly maintenanceQueue: Queue,
    private readonly clients: Redis[],
    private readonly logger: Logger,
  ) {}

  static async start(options: DurableEngineOptions): Promise<DurableEngine> {
    const logger = options.logger ?? silentLogger;
    const storeClient = createRedisClient(options.redis, 'store');
    const workerClient = createRedisClient(options.redis, 'worker');
    const clients = [storeClient, workerClient];
    for (const client of clients) client.on('error', (error) => logger.warn({ err: error.message }, 'redis connection problem'));
    try {
      if (options.checkRedis !== false) await checkRedis(storeClient, describeRedisTarget(options.redis));
      const retry = new RetryPolicy(options.retry);
      // The step queue is built on the store's own connection: a transition and the jobs it starts travel on one
      // connection, in order. The runs kept in memory are dropped when that connection closes.
      const { store, queue, liveRuns } = openStepChannel(storeClient, { enabled: options.liveRunCache ?? liveRunCacheFromEnv() });
      if (!liveRuns.enabled) logger.info('in-memory run cache off: every step is taken up through Redis');
      const driver = new RunDriver({ store, queue, liveRuns, lifecycles: options.lifecycles ?? LIFECYCLES, logger });
      const reconciler = new Reconciler(store, queue, driver, logger);
      const maintenanceQueue = new Queue(MAINTENANCE_QUEUE, { connection: storeClient, prefix: QUEUE_PREFIX });
      const workers: Worker[] = [];
      let startupReport: ReconcileReport = { runs: 0, requeued: 0, delivered: 0, releasedLocks: 0 };
      if (options.runWorkers !== false) {
        startupReport = await reconciler.reconcile();
        workers.push(createStepWorker({ connection: workerClient, driver, store, handlers: options.handlers, retry, logger, ...options.worker }));
        await maintenanceQueue.upsertJobScheduler(RECONCILE_SCHEDULER, { every: options.reconcileIntervalMs ?? 30_000 }, { name: RECONCILE_SCHEDULER });
        const maintenance = new Worker(MAINTENANCE_QUEUE, async () => reconciler.reconcile(), { connection: workerClient, prefix: QUEUE_PREFIX, concurrency: 1 });
        maintenance.on('error', (error) => logger.error({ err: error }, 'maintenance worker error'));
        workers.push(maintenance);
      }
      return new DurableEngine(driver, store, queue, reconciler, startupReport, workers, maintenanceQueue, clients, logger);
    } catch (error) {
      for (const client of clients) client.disconnect();
      throw error;
    }
  }

  /** Stops taking steps, waits for running ones up to the deadline, closes every Redis client. Idempotent. */
  stop(options: StopOptions = {}): Promise<void> {
    this.stopping ??= this.doStop(options.deadlineMs ?? 30_000);
    return this.stopping;
  }

  private async doStop(deadlineMs: number): Promise<void> {
    this.logger.info({ deadlineMs }, 'engine stopping');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), deadlineMs);
    });
    const graceful = Promise.all(this.workers.map((worker) => worker.close()))
      .then(() => this.driver.settle())
      .then(() => 'closed' as const);
    if ((await Promise.race([graceful, deadline])) === 'timeout') {
      this.logger.warn('running steps did not finish before the deadline; they will be resumed by the next engine');
      await Promise.all(this.workers.map((worker) => worker.close(true)));
    }
    clearTimeout(timer);
    await this.queue.close();
    await this.maintenanceQueue.close();
    await Promise.all(this.clients.map((client) => client.quit().catch(() => client.disconnect())));
    this.logger.info('engine stopped');
  }
}
