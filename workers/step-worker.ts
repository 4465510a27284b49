import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { DvxError, toDvxError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { StepAttempt } from '../model/run-record.js';
import type { RunStore } from '../model/run-store.js';
import { RetryPolicy } from './retry-policy.js';
import type { RunDriver } from './run-driver.js';
import type { StepHandler, StepHandlers } from './step-handler.js';
import { QUEUE_PREFIX, STEP_QUEUE, type StepJobData } from './step-job.js';

/** Options of {@link createStepWorker}. */
export interface StepWorkerOptions {
  /** A Redis client for workers (maxRetriesPerRequest: null); BullMQ duplicates it for blocking reads. */
  connection: Redis;
  driver: RunDriver;
  store: RunStore;
  handlers: StepHandlers;
  retry?: RetryPolicy;
  logger?: Logger;
  /** Steps run at once by this engine. @defaultValue 16 */
  concurrency?: number;
  /**
   * How long a step's lock lasts without renewal. A step orphaned by a killed engine is taken up again once its
   * lock has lapsed and a stalled check has run, so lock + stalled interval bound the resume time.
   * @defaultValue 5000
   */
  lockDurationMs?: number;
  /** How often stalled steps are looked for. @defaultValue 2000 */
  stalledIntervalMs?: number;
  /** Times a step may be orphaned before BullMQ fails it (steps are idempotent, so this is generous). @defaultValue 20 */
  maxStalledCount?: number;
}

/**
 * The worker that runs lifecycle steps. For each job: skip it if its run no longer waits for it, run the
 * handler, record the attempt in the run's timeline, and feed the result back into the run. Retryable errors
 * are retried with backoff until the step's deadline; other errors, and the deadline, fail the step at once.
 */
export function createStepWorker(options: StepWorkerOptions): Worker<StepJobData> {
  const logger = options.logger ?? silentLogger;
  const retry = options.retry ?? new RetryPolicy();
  const { driver, store } = options;
  const handlers = new Map<string, StepHandler>(Object.entries(options.handlers));
  const now = () => new Date().toISOString();

  const processor = async (job: Job<StepJobData>, _token?: string, signal?: AbortSignal): Promise<unknown> => {
    const { runId, stepId, src, seq } = job.data;
    const jobId = job.id!;
    const attempt = job.attemptsMade + 1;
    const startedMs = Date.now();
    const started: StepAttempt = { attempt, startedAt: new Date(startedMs).toISOString() };
    const run = await store.beginStep(runId, jobId, { stepId, src, jobId, operationId: jobId, seq, startedAt: started.startedAt }, started);
    if (!run) {
      logger.debug({ runId, stepId, jobId }, 'skipping a step its run no longer waits for');
      return null;
    }
    const stepLogger = logger.child({ runId, step: stepId, src, operationId: jobId, objectId: run.objectId, attempt });
    const ended = (outcome: StepAttempt['outcome'], error?: DvxError, retryAt?: number): StepAttempt => ({
      ...started,
      endedAt: now(),
      durationMs: Date.now() - startedMs,
      outcome,
      ...(error ? { error: error.toJSON() } : {}),
      ...(retryAt ? { retryAt: new Date(retryAt).toISOString() } : {}),
    });

    let output: unknown;
    try {
      const handler = handlers.get(src);
      if (!handler) throw new DvxError({ code: 'INTERNAL', message: `This engine has no handler for step "${src}".` });
      output = await handler(job.data.input as never, {
        runId,
        stepId,
        src,
        operationId: jobId,
        attempt,
        signal: signal ?? new AbortController().signal,
        logger: stepLogger,
      });
    } catch (raw) {
      const error = toDvxError(raw);
      const cancelled = error.retryable && (await driver.isCancelRequested(runId));
      if (error.retryable && !cancelled && retry.mayRetry(src, job.timestamp, attempt)) {
        const delay = retry.ceilingDelay(attempt);
        await store.recordAttempt(runId, jobId, ended('retrying', error, Date.now() + delay));
        stepLogger.warn({ err: error.toJSON(), retryInMs: delay }, 'step failed; retrying');
        throw error;
      }
      const final = cancelled
        ? new DvxError({ code: 'RUN_CANCELLED', message: `The run was cancelled while step ${stepId} kept failing: ${error.message}`, details: { lastError: error.toJSON() } })
        : error.retryable
          ? new DvxError({
              code: 'STEP_DEADLINE_EXCEEDED',
              message: `Step ${stepId} kept failing for ${Math.round((Date.now() - job.timestamp) / 1000)} s: ${error.message}`,
              ...(error.action ? { action: error.action } : {}),
              ...(error.output ? { output: error.output } : {}),
              details: { lastError: error.toJSON() },
            })
          : error;
      stepLogger.warn({ err: final.toJSON() }, 'step failed');
      await driver.deliverResult(runId, jobId, stepId, { error: final.toJSON() }, { run, attempt: ended('failed', final) });
      throw new UnrecoverableError(final.message);
    }
    await driver.deliverResult(runId, jobId, stepId, { output: output ?? null }, { run, attempt: ended('succeeded') });
    return output ?? null;
  };

  const worker = new Worker<StepJobData>(STEP_QUEUE, processor, {
    connection: options.connection,
    prefix: QUEUE_PREFIX,
    concurrency: options.concurrency ?? 16,
    lockDuration: options.lockDurationMs ?? 5_000,
    stalledInterval: options.stalledIntervalMs ?? 2_000,
    maxStalledCount: options.maxStalledCount ?? 20,
    settings: { backoffStrategy: (attemptsMade: number) => retry.delay(attemptsMade) },
  });
  worker.on('error', (error) => logger.error({ err: error }, 'step worker error'));
  return worker;
}
