import { DelayedError, UnrecoverableError, Worker, type Job, type MinimalJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { DvxError, toDvxError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { RunStore } from '../model/run-store.js';
import { RetryPolicy } from './retry-policy.js';
import type { RunDriver } from './run-driver.js';
import type { StepHandler, StepHandlers } from './step-handler.js';
import { QUEUE_PREFIX, STEP_QUEUE, type StepJobData } from './step-job.js';
import { StepTakeUp, type TakenStep } from './step-take-up.js';

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

/** What the stages of the step processor share. */
interface StepStages {
  driver: RunDriver;
  store: RunStore;
  handlers: ReadonlyMap<string, StepHandler>;
  retry: RetryPolicy;
  logger: Logger;
}

/** A step's logger, naming the run, step, operation and attempt. */
function stepLogger(stages: StepStages, step: TakenStep): Logger {
  return stages.logger.child({
    runId: step.runId,
    step: step.stepId,
    src: step.src,
    operationId: step.jobId,
    objectId: step.run.objectId,
    attempt: step.attempt,
  });
}

/** What the run stage came to: the handler's output, sent to the run, or what the handler threw. */
type StepRan = { done: true; output: unknown } | { done: false; thrown: unknown };

/** The run stage: runs the step's handler and, when it returns, sends its output to the run. */
async function runStep(stages: StepStages, step: TakenStep, logger: Logger): Promise<StepRan> {
  let output: unknown;
  try {
    const handler = stages.handlers.get(step.src);
    if (!handler)
      throw new DvxError({ code: 'INTERNAL', message: `This engine has no handler for step "${step.src}".` });
    // The one untyped edge of the step contract: the input was built by the machine against the handler's catalogue
    // entry (checked at compile time) and comes back from Redis as JSON, so the lookup by src cannot carry its type.
    output =
      (await handler(step.input as never, {
        runId: step.runId,
        stepId: step.stepId,
        src: step.src,
        operationId: step.jobId,
        attempt: step.attempt,
        signal: step.signal,
        logger,
      })) ?? null;
  } catch (thrown) {
    return { done: false, thrown };
  }
  await stages.driver.sendResult(
    step.runId,
    step.jobId,
    step.stepId,
    { output },
    { run: step.run, finished: step.finish('succeeded') },
  );
  return { done: true, output };
}

/**
 * The fail stage: what becomes of a step whose handler threw `raw`. A retryable error is recorded with the time of
 * the next attempt and rethrown, for BullMQ to retry after the same delay; any other error, a cancelled run or the
 * step's deadline fails the step in its run, and the job fails for good. Resolves to null for a step stopped because
 * its run no longer waits for it.
 */
async function failStep(stages: StepStages, step: TakenStep, raw: unknown, logger: Logger): Promise<null> {
  const { driver, retry } = stages;
  if (step.noLongerWaited) {
    logger.info('stopped a step its run no longer waits for');
    return null;
  }
  const error = toDvxError(raw);
  const cancelled = error.retryable && (await driver.isCancelRequested(step.runId));
  if (error.retryable && !cancelled && retry.mayRetry(step.src, step.queuedAt, step.failures)) {
    const delay = retry.delay(step.failures, step.jobId);
    await stages.store.recordAttempt(step.runId, step.finish('retrying', error, delay));
    logger.warn({ err: error.toJSON(), retryInMs: delay }, 'step failed; retrying');
    throw error;
  }
  const final = cancelled
    ? new DvxError({
        code: 'RUN_CANCELLED',
        message: `The run was cancelled while step ${step.stepId} kept failing: ${error.message}`,
        details: { lastError: error.toJSON() },
      })
    : error.retryable
      ? new DvxError({
          code: 'STEP_DEADLINE_EXCEEDED',
          message: `Step ${step.stepId} kept failing for ${Math.round((Date.now() - step.queuedAt) / 1000)} s: ${error.message}`,
          ...(error.action ? { action: error.action } : {}),
          ...(error.output ? { output: error.output } : {}),
          details: { lastError: error.toJSON() },
        })
      : error;
  logger.warn({ err: final.toJSON() }, 'step failed');
  await driver.deliverResult(
    step.runId,
    step.jobId,
    step.stepId,
    { error: final.toJSON() },
    { run: step.run, finished: step.finish('failed', final) },
  );
  throw new UnrecoverableError(final.message);
}

/**
 * The worker that runs lifecycle steps. For each job, three stages: take up (skip it if its run no longer waits for
 * it, see step-take-up.ts), run the handler and feed its output back into the run, or fail: record the attempt and
 * retry with backoff while errors are retryable and the step's deadline allows, fail the step otherwise.
 */
export function createStepWorker(options: StepWorkerOptions): Worker<StepJobData> {
  const logger = options.logger ?? silentLogger;
  const retry = options.retry ?? new RetryPolicy();
  const { driver, store } = options;
  const takeUp = new StepTakeUp({ store, liveRuns: driver.liveRuns, logger });
  const stages: StepStages = {
    driver,
    store,
    handlers: new Map<string, StepHandler>(Object.entries(options.handlers)),
    retry,
    logger,
  };

  const processor = async (job: Job<StepJobData>, token?: string, signal?: AbortSignal): Promise<unknown> => {
    const taken = await takeUp.takeUp(job, signal);
    if (taken.status === 'ahead') {
      // Look again later, without spending an attempt (see step-take-up.ts).
      logger.debug(
        { runId: job.data.runId, stepId: job.data.stepId, jobId: job.id, waitMs: taken.retryInMs },
        'step job is ahead of its run; waiting for the transition that started it',
      );
      await job.moveToDelayed(Date.now() + taken.retryInMs, token);
      throw new DelayedError();
    }
    if (taken.status === 'stale') {
      logger.debug(
        { runId: job.data.runId, stepId: job.data.stepId, jobId: job.id },
        'skipping a step its run no longer waits for',
      );
      return null;
    }
    const step = taken.step;
    const log = stepLogger(stages, step);
    const ran = await runStep(stages, step, log);
    return ran.done ? ran.output : failStep(stages, step, ran.thrown, log);
  };

  const worker = new Worker<StepJobData>(STEP_QUEUE, processor, {
    connection: options.connection,
    prefix: QUEUE_PREFIX,
    concurrency: options.concurrency ?? 16,
    lockDuration: options.lockDurationMs ?? 5_000,
    stalledInterval: options.stalledIntervalMs ?? 2_000,
    maxStalledCount: options.maxStalledCount ?? 20,
    // The same delay the fail stage recorded as the attempt's retryAt.
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, _error?: Error, job?: MinimalJob) =>
        retry.delay(attemptsMade, job?.id ?? ''),
    },
  });
  worker.on('error', (error) => logger.error({ err: error }, 'step worker error'));
  return worker;
}
