import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { ConflictError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { LIFECYCLES, type Lifecycle } from '../machines/index.js';
import { checkRedis } from '../model/check-redis.js';
import { createRedisClient } from '../model/redis-clients.js';
import { describeRedisTarget, type RedisTarget } from '../model/redis-target.js';
import type { RunStore } from '../model/run-store.js';
import { Reconciler, type ReconcileReport } from './reconciler.js';
import { RetryPolicy, type StepRetryOptions } from './retry-policy.js';
import { RunDriver } from './run-driver.js';
import { requireHandlers } from './missing-handlers.js';
import type { StepHandlers } from './step-handler.js';
import { QUEUE_PREFIX, type StepJobData } from './step-job.js';
import { liveRunCacheFromEnv, openStepChannel } from './step-take-up.js';
import { createStepWorker, type StepWorkerOptions } from './step-worker.js';

export const MAINTENANCE_QUEUE = 'dvx-maintenance';
const RECONCILE_SCHEDULER = 'reconcile';

/** Options of {@link DurableEngine.open}: everything but the step handlers, which may need the driver to be built. */
export interface DurableEngineOpenOptions {
  redis: RedisTarget;
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

/** Options of {@link DurableEngine.start}. */
export interface DurableEngineOptions extends DurableEngineOpenOptions {
  /** Step handlers by name; every step of every lifecycle needs one (the engine refuses to start otherwise). */
  handlers: StepHandlers;
}

/** Whether the engine's workers can take steps, for /health. */
export interface WorkerLiveness {
  /** Workers started in this process (0 in a process that only starts runs). */
  workers: number;
  /** Of those, the ones running (not closed or closing). */
  running: number;
  /** Every Redis connection the engine opened is ready. */
  redisReady: boolean;
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
  private readonly workers: Worker[] = [];
  private report: ReconcileReport = { runs: 0, requeued: 0, delivered: 0, releasedLocks: 0 };

  private constructor(
    readonly driver: RunDriver,
    readonly store: RunStore,
    readonly queue: Queue<StepJobData>,
    readonly reconciler: Reconciler,
    private readonly maintenanceQueue: Queue,
    private readonly clients: Redis[],
    private readonly workerClient: Redis,
    private readonly options: DurableEngineOpenOptions,
    private readonly logger: Logger,
  ) {}

  /** What the reconciler found when the workers started (all zeros before, or in a process without workers). */
  get startupReport(): ReconcileReport {
    return this.report;
  }

  /** Opens the engine and, unless `runWorkers` is false, starts its workers with the handlers. */
  static async start(options: DurableEngineOptions): Promise<DurableEngine> {
    // Refused before Redis is opened: a missing handler is a packaging mistake, not something to retry.
    const lifecycles = [...(options.lifecycles ?? LIFECYCLES)];
    requireHandlers(lifecycles, options.handlers);
    const engine = await DurableEngine.open({ ...options, lifecycles });
    if (options.runWorkers === false) return engine;
    try {
      await engine.startWorkers(options.handlers);
    } catch (error) {
      for (const client of engine.clients) client.disconnect();
      throw error;
    }
    return engine;
  }

  /**
   * Opens the run store, the step queue and the run driver, without workers: runs can be started, none is taken up
   * until {@link startWorkers}. Lets a composition root build what the step handlers need (the driver among them) first.
   */
  static async open(options: DurableEngineOpenOptions): Promise<DurableEngine> {
    const lifecycles = [...(options.lifecycles ?? LIFECYCLES)];
    const logger = options.logger ?? silentLogger;
    const storeClient = createRedisClient(options.redis, 'store');
    const workerClient = createRedisClient(options.redis, 'worker');
    const clients = [storeClient, workerClient];
    for (const client of clients)
      client.on('error', (error) => logger.warn({ err: error.message }, 'redis connection problem'));
    try {
      if (options.checkRedis !== false) await checkRedis(storeClient, describeRedisTarget(options.redis));
      // The step queue is built on the store's own connection: a transition and the jobs it starts travel on one
      // connection, in order. The runs kept in memory are dropped when that connection closes.
      const { store, queue, liveRuns } = openStepChannel(storeClient, {
        enabled: options.liveRunCache ?? liveRunCacheFromEnv(),
      });
      if (!liveRuns.enabled) logger.info('in-memory run cache off: every step is taken up through Redis');
      const driver = new RunDriver({ store, queue, liveRuns, lifecycles, logger });
      const reconciler = new Reconciler(store, queue, driver, logger);
      const maintenanceQueue = new Queue(MAINTENANCE_QUEUE, { connection: storeClient, prefix: QUEUE_PREFIX });
      // Without a listener, BullMQ prints a queue's connection errors as raw stack blocks on the console.
      for (const emitter of [queue, maintenanceQueue])
        emitter.on('error', (error) => logger.warn({ err: error.message }, 'redis connection problem'));
      return new DurableEngine(
        driver,
        store,
        queue,
        reconciler,
        maintenanceQueue,
        clients,
        workerClient,
        { ...options, lifecycles },
        logger,
      );
    } catch (error) {
      for (const client of clients) client.disconnect();
      throw error;
    }
  }

  /** Whether the workers run and their Redis connections are up. */
  liveness(): WorkerLiveness {
    return {
      workers: this.workers.length,
      running: this.workers.filter((worker) => worker.isRunning()).length,
      redisReady: this.clients.every((client) => client.status === 'ready'),
    };
  }

  /** Reconciles, then starts the step worker with the handlers and the reconciler's schedule. Once per engine. */
  async startWorkers(handlers: StepHandlers): Promise<ReconcileReport> {
    if (this.workers.length > 0)
      throw new ConflictError({
        message: "The engine's workers are already started.",
        action: 'Call startWorkers once per engine.',
      });
    requireHandlers(this.options.lifecycles ?? LIFECYCLES, handlers);
    const { driver, store, reconciler, maintenanceQueue, logger, options } = this;
    const connection = this.workerClient;
    const retry = new RetryPolicy(options.retry);
    this.report = await reconciler.reconcile();
    this.workers.push(createStepWorker({ connection, driver, store, handlers, retry, logger, ...options.worker }));
    await maintenanceQueue.upsertJobScheduler(
      RECONCILE_SCHEDULER,
      { every: options.reconcileIntervalMs ?? 30_000 },
      { name: RECONCILE_SCHEDULER },
    );
    const maintenance = new Worker(MAINTENANCE_QUEUE, async () => reconciler.reconcile(), {
      connection,
      prefix: QUEUE_PREFIX,
      concurrency: 1,
    });
    maintenance.on('error', (error) => logger.warn({ err: error.message }, 'maintenance worker error'));
    this.workers.push(maintenance);
    return this.report;
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
