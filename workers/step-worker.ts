import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { DvxError, toDvxError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { StepAttempt } from '../model/run-record.js';
import type { FinishedAttempt, RunStore, StepMeta } from '../model/run-store.js';
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

  const processor = async (job: Job<StepJobData>, token?: string, signal?: AbortSignal): Promise<unknown> => {
    const { runId, stepId, seq } = job.data;
    const jobId = job.id!;
    const attempt = job.attemptsMade + 1;
    const startedMs = Date.now();
    const started: StepAttempt = { attempt, startedAt: new Date(startedMs).toISOString() };
    const meta: StepMeta = { stepId, src: job.data.src, jobId, operationId: jobId, seq, startedAt: started.startedAt };
    let run = await driver.knownRun(runId, jobId);
    const fromMemory = run !== undefined;
    let startRecord: NodeJS.Immediate | undefined;
    // The handler's signal: aborted when BullMQ cancels the job, or when the run turns out not to wait for it.
    const stepSignal = new AbortController();
    signal?.addEventListener('abort', () => stepSignal.abort(signal.reason), { once: true });
    let noLongerWaited = false;
    if (run) {
      // The start goes into the timeline once the step has been at work for an event-loop turn: a step done by then
      // records its start with its end, in the transition's write, and spares a write on the way to the next step.
      // Recording it also checks the run in Redis: one ended by another engine since this one wrote it stops the step.
      startRecord = setImmediate(() => {
        store
          .recordStepStart(runId, jobId, meta, started)
          .then((found) => {
            // 'ahead' means Redis lost the write that started this job: the step runs on, its result meets the
            // compare-and-set, and the run repeats or reuses it (same operation id) once it is back at this step.
            if (found !== 'stale') return;
            noLongerWaited = true;
            stepSignal.abort(new DvxError({ code: 'RUN_CANCELLED', message: `Run ${runId} no longer waits for step ${stepId}.` }));
          })
          .catch((error: unknown) => logger.warn({ runId, jobId, err: toDvxError(error).toJSON() }, 'could not record the start of a step'));
      });
    } else {
      const began = await store.beginStep(runId, jobId, meta, started);
      if (began.status === 'ahead') {
        // Enqueued with a transition that is not written yet (or never will be, if its engine died in between): look
        // again later, without spending an attempt. It runs once the run reaches its sequence, or is dropped then.
        const waitMs = Math.min(Math.max((Date.now() - job.timestamp) / 2, 50), 30_000);
        logger.debug({ runId, stepId, jobId, waitMs }, 'step job is ahead of its run; waiting for the transition that started it');
        await job.moveToDelayed(Date.now() + waitMs, token);
        throw new DelayedError();
      }
      if (began.status === 'stale') {
        logger.debug({ runId, stepId, jobId }, 'skipping a step its run no longer waits for');
        return null;
      }
      run = began.run;
    }
    // What to run comes from the run, not the job: when two transitions raced to start the same step, the job may
    // have been added by the one that lost its compare-and-set, with that one's data. (Both paths above found the
    // job pending in the run.)
    const step = run.pending.find((pending) => pending.jobId === jobId)!;
    const src = step.src;
    meta.src = src;
    // A run kept in memory shares objects with the driver's snapshot: the handler gets its own copy, as from Redis.
    const input: unknown = fromMemory ? JSON.parse(JSON.stringify(step.input ?? null)) : step.input;
    const stepLogger = logger.child({ runId, step: stepId, src, operationId: jobId, objectId: run.objectId, attempt });
    const ended = (outcome: StepAttempt['outcome'], error?: DvxError, retryAt?: number): FinishedAttempt => {
      clearImmediate(startRecord);
      const record: StepAttempt = {
        ...started,
        endedAt: now(),
        durationMs: Date.now() - startedMs,
        outcome,
        ...(error ? { error: error.toJSON() } : {}),
        ...(retryAt ? { retryAt: new Date(retryAt).toISOString() } : {}),
      };
      return { meta, record };
    };

    let output: unknown;
    try {
      const handler = handlers.get(src);
      if (!handler) throw new DvxError({ code: 'INTERNAL', message: `This engine has no handler for step "${src}".` });
      output = await handler(input as never, {
        runId,
        stepId,
        src,
        operationId: jobId,
        attempt,
        signal: stepSignal.signal,
        logger: stepLogger,
      });
    } catch (raw) {
      if (noLongerWaited) {
        stepLogger.info('stopped a step its run no longer waits for');
        return null;
      }
      const error = toDvxError(raw);
      const cancelled = error.retryable && (await driver.isCancelRequested(runId));
      if (error.retryable && !cancelled && retry.mayRetry(src, job.timestamp, attempt)) {
        const delay = retry.ceilingDelay(attempt);
        await store.recordAttempt(runId, ended('retrying', error, Date.now() + delay));
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
      await driver.deliverResult(runId, jobId, stepId, { error: final.toJSON() }, { run, finished: ended('failed', final) });
      throw new UnrecoverableError(final.message);
    }
    await driver.sendResult(runId, jobId, stepId, { output: output ?? null }, { run, finished: ended('succeeded') });
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
