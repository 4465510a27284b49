import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { silentLogger, type Logger } from '../log/logger.js';
import { createRedisClient } from '../model/redis-clients.js';
import type { RedisTarget } from '../model/redis-target.js';
import {
  BOOKMARK_EXPIRY_JOB,
  closePolicyQueue,
  POLICY_FIRE_JOB,
  POLICY_QUEUE,
  policyQueue,
  type PolicyFireJobData,
} from './policy-queue.js';
import { QUEUE_PREFIX } from './step-job.js';

/** Options of {@link PolicyScheduler.start}. */
export interface PolicySchedulerOptions {
  redis: RedisTarget;
  /** The client the policy queue lives on (the service layer's model client). */
  queueClient: Redis;
  /** Fires one policy on one object; what it returns is the job's result. */
  fire: (data: PolicyFireJobData) => Promise<unknown>;
  /** Periodic upkeep: removes expired bookmarks, prunes old runs. */
  maintain: () => Promise<unknown>;
  /** Brings the job schedulers in line with the policy records; run once at start. */
  reconcile: () => Promise<unknown>;
  /** How often {@link PolicySchedulerOptions.maintain} runs. @defaultValue 60000 */
  maintenanceIntervalMs?: number;
  /** Fires handled at once. @defaultValue 4 */
  concurrency?: number;
  logger?: Logger;
}

/**
 * The worker of the policy queue: BullMQ job schedulers (one per policy and object, kept in Redis) add a fire job
 * at each cron time; this worker hands it to the service layer. Nothing is timed in-process, so fires survive an
 * engine restart, and a fire due while no engine ran is taken by the next one.
 */
export class PolicyScheduler {
  private stopping: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly client: Redis,
    private readonly queueClient: Redis,
  ) {}

  static async start(options: PolicySchedulerOptions): Promise<PolicyScheduler> {
    const logger = options.logger ?? silentLogger;
    await options.reconcile();
    await policyQueue(options.queueClient).upsertJobScheduler(
      BOOKMARK_EXPIRY_JOB,
      { every: options.maintenanceIntervalMs ?? 60_000 },
      { name: BOOKMARK_EXPIRY_JOB, opts: { removeOnComplete: { count: 10 }, removeOnFail: { count: 50 } } },
    );
    const client = createRedisClient(options.redis, 'worker');
    client.on('error', (error) => logger.warn({ err: error.message }, 'redis connection problem'));
    const worker = new Worker(
      POLICY_QUEUE,
      async (job: Job) => {
        if (job.name === POLICY_FIRE_JOB) return options.fire(job.data as PolicyFireJobData);
        if (job.name === BOOKMARK_EXPIRY_JOB) return options.maintain();
        logger.warn({ name: job.name }, 'unknown job on the policy queue');
        return null;
      },
      { connection: client, prefix: QUEUE_PREFIX, concurrency: options.concurrency ?? 4 },
    );
    worker.on('error', (error) => logger.error({ err: error }, 'policy worker error'));
    worker.on('failed', (job, error) => logger.error({ err: error, job: job?.id }, 'policy fire failed'));
    return new PolicyScheduler(worker, client, options.queueClient);
  }

  /** Stops taking fires, lets running ones end, closes its Redis client. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.worker.close();
      await closePolicyQueue(this.queueClient);
      await this.client.quit().catch(() => this.client.disconnect());
    })();
    return this.stopping;
  }
}
