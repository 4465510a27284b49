import type { Job, Queue } from 'bullmq';
import { DvxError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { PendingStep } from '../model/run-record.js';
import type { FinishedAttempt, RunStore } from '../model/run-store.js';
import type { RunDriver } from './run-driver.js';
import type { StepJobData } from './step-job.js';

/** The timeline entry of a step whose job ended without its result reaching the run, from what the queue kept. */
function finishedAttempt(
  step: PendingStep,
  job: Job<StepJobData>,
  outcome: 'succeeded' | 'failed',
  error?: DvxError,
): FinishedAttempt {
  const startedMs = job.processedOn ?? job.timestamp;
  const endedMs = job.finishedOn ?? Date.now();
  const startedAt = new Date(startedMs).toISOString();
  return {
    meta: { stepId: step.stepId, src: step.src, jobId: step.jobId, operationId: step.jobId, seq: step.seq, startedAt },
    record: {
      attempt: Math.max(1, job.attemptsMade),
      startedAt,
      endedAt: new Date(endedMs).toISOString(),
      durationMs: Math.max(0, endedMs - startedMs),
      outcome,
      ...(error ? { error: error.toJSON() } : {}),
    },
  };
}

/** What one reconciliation pass repaired. */
export interface ReconcileReport {
  /** Running runs looked at. */
  runs: number;
  /** Steps whose job was missing and was enqueued again. */
  requeued: number;
  /** Steps whose job had finished without its result reaching the run; the result was delivered. */
  delivered: number;
  /** Locks held by runs that are not running, released. */
  releasedLocks: number;
}

/**
 * Repairs what a crash can leave: a persisted step whose job was never enqueued (crash between persist and
 * enqueue), a job that ended without its result reaching the run (failed by BullMQ after stalling too often),
 * and locks of runs that ended. Safe to run at any time and from several engines: enqueueing uses the step's
 * job id, and results go through the driver's stale check.
 */
export class Reconciler {
  constructor(
    private readonly store: RunStore,
    private readonly queue: Queue<StepJobData>,
    private readonly driver: RunDriver,
    private readonly logger: Logger = silentLogger,
  ) {}

  async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { runs: 0, requeued: 0, delivered: 0, releasedLocks: 0 };
    for (const runId of await this.store.activeRunIds()) {
      const run = await this.store.get(runId);
      if (!run || run.status !== 'running') {
        await this.store.forgetActive(runId);
        continue;
      }
      report.runs += 1;
      for (const step of run.pending) {
        const job = await this.queue.getJob(step.jobId);
        if (!job) {
          const fresh = await this.store.get(runId);
          if (!fresh?.pending.some((pending) => pending.jobId === step.jobId)) continue;
          await this.driver.enqueue(runId, [step]);
          report.requeued += 1;
          this.logger.warn({ runId, step: step.stepId, jobId: step.jobId }, 'reconciler enqueued a missing step job');
          continue;
        }
        const state = await job.getState();
        if (state === 'completed') {
          const outcome = await this.driver.deliverResult(
            runId,
            step.jobId,
            step.stepId,
            { output: job.returnvalue ?? null },
            { finished: finishedAttempt(step, job, 'succeeded') },
          );
          if (outcome === 'applied') report.delivered += 1;
        } else if (state === 'failed') {
          const error = new DvxError({
            code: 'INTERNAL',
            message: `Step ${step.stepId} was abandoned by the queue: ${job.failedReason || 'no reason given'}.`,
            action: 'Look at the engine logs around the time of the failure; retry the operation.',
          });
          const outcome = await this.driver.deliverResult(
            runId,
            step.jobId,
            step.stepId,
            { error: error.toJSON() },
            { finished: finishedAttempt(step, job, 'failed', error) },
          );
          if (outcome === 'applied') report.delivered += 1;
        }
      }
    }
    for (const [object, holder] of await this.store.locks()) {
      const run = await this.store.get(holder);
      if (run && run.status === 'running') continue;
      if (await this.store.releaseLock(object, holder)) report.releasedLocks += 1;
    }
    if (report.requeued || report.delivered || report.releasedLocks) this.logger.info({ ...report }, 'reconciled runs');
    return report;
  }
}
