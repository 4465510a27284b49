// Taking up a step job: whether the step of a job runs, what it runs, and the record of its start. This is the
// engine's hot path: every step of every run goes through it.
//
// What must hold for a step to run. The handler runs for job J only if J's run was seen, when J was taken up,
// running and waiting for J (J among its pending steps); it runs the step the run holds for J (src and input come
// from the run, never from the job: a job added by a transition that lost its compare-and-set carries that
// transition's data). The run is seen either
// - in Redis: `RunStore.beginStep` checks the run and records the start of the attempt in one script; or
// - in this engine's memory (LiveRuns) of a transition it wrote itself, once Redis has acknowledged that write. A
//   job can be fetched before the answer to the write that started it is read: that answer is already on its way
//   (Redis applied the write before adding the job), so waiting for it costs no round trip.
//
// Why the memory is only a hint. Another engine may have moved the run since this one wrote it, and Redis back from
// a restart (AOF loses up to a second) or a failover may have lost the write; so the runs kept are dropped when the
// store's connection closes, and a step taken up from memory is checked in Redis one event-loop turn later, when its
// start is recorded (`RunStore.recordStepStart`): if the run no longer waits for J, the step is stopped through its
// signal and its result dropped; if Redis is behind (the write was lost), the step runs on. A step done within that
// turn records its start with its end, in the transition that applies its result, sparing a write. With the memory
// off (LiveRunsOptions.enabled, DVX_LIVE_RUN_CACHE=off), every step is taken up through Redis.
//
// Why every write is still a compare-and-set. Nothing a step produces reaches its run but through a compare-and-set
// on the run's sequence that also checks J is still pending (RunDriver.deliver). A stale memory, a lost write or two
// engines racing can make a step run again, under the same operation id (steps are idempotent), but can never
// apply a result twice or to a state that has moved on.
//
// A job ahead of its run (the run is running, behind the job's sequence, and does not wait for it): the transition
// that added it lost its compare-and-set, or went on another connection and is not applied yet. It is looked at
// again later without spending an attempt; it runs if its run reaches its sequence waiting for it, else is dropped.
// A job behind its run (the run has ended, or moved past the job's sequence without waiting for it) is a leftover:
// it completes with null and nothing runs.
//
// Ordering. The run store and the step queue share one Redis connection (openStepChannel): the driver sends a
// transition and the jobs it starts back to back without waiting in between, and Redis applies the commands of one
// connection in the order they were sent, so a worker never sees a job before the transition that added it. The
// driver keeps the run in memory as soon as it sends the transition, and a step's job completes (which also fetches
// the next job, on the workers' connection) only once its transition and job adds are written (writesIssued): the
// next step of the run is then taken up from memory.
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AnyMachineSnapshot } from 'xstate';
import { DvxError, ValidationError, toDvxError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { PendingStep, RunRecord, StepAttempt } from '../model/run-record.js';
import { RunStore, type FinishedAttempt, type StepMeta } from '../model/run-store.js';
import { QUEUE_PREFIX, STEP_QUEUE, stepJobId, type StepJobData } from './step-job.js';

/** The environment variable that turns the in-memory run cache off (`off`) for debugging; `on` or unset: on. */
export const LIVE_RUN_CACHE_ENV = 'DVX_LIVE_RUN_CACHE';

/** Whether the environment leaves the in-memory run cache on (see {@link LIVE_RUN_CACHE_ENV}). */
export function liveRunCacheFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[LIVE_RUN_CACHE_ENV];
  if (value === undefined || value === '' || value === 'on') return true;
  if (value === 'off') return false;
  throw new ValidationError(
    `${LIVE_RUN_CACHE_ENV} is "${value}".`,
    [{ pointer: '', message: 'must be "on" or "off"' }],
    {
      action: `Set ${LIVE_RUN_CACHE_ENV} to "on" or "off", or unset it.`,
    },
  );
}

/** Options of {@link LiveRuns}. */
export interface LiveRunsOptions {
  /**
   * Whether runs are kept at all. Off, every step is taken up through Redis and every transition resolves its
   * machine snapshot from the stored state: slower, for debugging the hot path.
   * @defaultValue true, unless the environment variable `DVX_LIVE_RUN_CACHE` is `off`
   */
  enabled?: boolean;
  /** Runs kept at most; the one written longest ago goes first. @defaultValue 5000 */
  maxRuns?: number;
  /** The run store's connection: the runs kept are dropped when it closes (Redis may come back behind them). */
  connection?: Redis;
}

/** A run as this engine last wrote it, with its machine snapshot at that sequence. */
export interface LiveRun {
  run: RunRecord;
  snapshot: AnyMachineSnapshot;
  /** Whether Redis took the write: set once it answers. */
  confirmed: boolean;
  /** Settles with the answer; false when the compare-and-set failed or the write did not go through. */
  written: Promise<boolean>;
}

/**
 * The running runs whose last transition this engine wrote (record and machine snapshot), so that taking up and
 * finishing their next step reads nothing back from Redis. A hint only: see the top of this file.
 */
export class LiveRuns {
  readonly enabled: boolean;
  private readonly maxRuns: number;
  private readonly runs = new Map<string, LiveRun>();

  constructor(options: LiveRunsOptions = {}) {
    this.enabled = options.enabled ?? liveRunCacheFromEnv();
    this.maxRuns = options.maxRuns ?? 5_000;
    options.connection?.on('close', () => this.clear());
  }

  get size(): number {
    return this.runs.size;
  }

  /** Keeps a run this engine is writing, from the moment the write is sent; `written` settles with Redis's answer. */
  remember(run: RunRecord, snapshot: AnyMachineSnapshot, written: Promise<boolean>): LiveRun {
    const live: LiveRun = { run, snapshot, confirmed: false, written };
    if (!this.enabled) return live;
    void written.then((ok) => {
      live.confirmed = ok;
    });
    this.runs.delete(run.id);
    if (run.status !== 'running') return live;
    this.runs.set(run.id, live);
    if (this.runs.size > this.maxRuns) {
      const oldest = this.runs.keys().next();
      if (!oldest.done) this.runs.delete(oldest.value);
    }
    return live;
  }

  /** The machine snapshot of run `runId` at sequence `seq`, if this engine wrote it and Redis took the write. */
  snapshotAt(runId: string, seq: number): AnyMachineSnapshot | undefined {
    const live = this.runs.get(runId);
    return live?.confirmed && live.run.seq === seq ? live.snapshot : undefined;
  }

  /**
   * The run as this engine last wrote it, if it is running, waits for job `jobId`, and Redis took the write;
   * undefined when this engine does not know (another engine moved it, or it was never here).
   */
  async waitingFor(runId: string, jobId: string): Promise<RunRecord | undefined> {
    const live = this.runs.get(runId);
    if (!live || live.run.status !== 'running' || !live.run.pending.some((step) => step.jobId === jobId))
      return undefined;
    return (await live.written) ? live.run : undefined;
  }

  /** Forgets run `runId`; only if it is still kept as `entry`, when given (a write that failed). */
  delete(runId: string, entry?: LiveRun): void {
    if (entry && this.runs.get(runId) !== entry) return;
    this.runs.delete(runId);
  }

  /** Forgets every run: from now on they are read from Redis again. */
  clear(): void {
    this.runs.clear();
  }
}

/**
 * Resolves once the promise chains under way have run (a tick queued from a promise callback runs after them): by
 * then the commands they issue, a transition and its job adds, are written to the connection (ioredis writes a
 * command when it is issued).
 */
export function writesIssued(): Promise<void> {
  return new Promise<void>((resolve) => process.nextTick(resolve));
}

/** Everything a step travels through on the run store's connection. */
export interface StepChannel {
  store: RunStore;
  /** The queue of step jobs, on the store's connection (see the top of this file for why it must be that one). */
  queue: Queue<StepJobData>;
  liveRuns: LiveRuns;
}

/**
 * Builds the run store, the step queue and the runs kept in memory on one Redis connection, the store's: a
 * transition and the jobs it starts must travel on one connection, in order. The caller closes the queue.
 */
export function openStepChannel(connection: Redis, options: Omit<LiveRunsOptions, 'connection'> = {}): StepChannel {
  const queue = new Queue<StepJobData>(STEP_QUEUE, {
    connection,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: {
      attempts: 1_000_000,
      backoff: { type: 'dvx' },
      removeOnComplete: { age: 3_600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3_600 },
    },
  });
  return { store: new RunStore(connection), queue, liveRuns: new LiveRuns({ ...options, connection }) };
}

/** What became of a job taken up. */
export type TakeUp =
  | { status: 'ready'; step: TakenStep }
  /** Its run no longer waits for it: nothing runs. */
  | { status: 'stale' }
  /** Its run is behind it: look again in `retryInMs`, without spending an attempt. */
  | { status: 'ahead'; retryInMs: number };

/** A step its run waits for: what to run, and the record of this attempt. */
export class TakenStep {
  readonly runId: string;
  readonly stepId: string;
  readonly jobId: string;
  /** This attempt's number among every start of the step, interrupted ones included (as its record shows). */
  readonly attempt: number;
  /** How many attempts will have failed if this one fails: BullMQ's count, which the retry backoff goes by. */
  readonly failures: number;
  /** When the job was first queued: the step's deadline counts from then. */
  readonly queuedAt: number;
  /** The run as it was seen waiting for the step (in Redis, or in memory); delivering the result starts from it. */
  readonly run: RunRecord;
  /** The step as the run holds it. */
  readonly step: PendingStep;
  /** The handler's own copy of the step's input. */
  readonly input: unknown;
  readonly meta: StepMeta;
  private readonly started: StepAttempt;
  private readonly startedMs: number;
  private readonly controller = new AbortController();
  private startRecord: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(init: {
    job: Job<StepJobData>;
    jobId: string;
    run: RunRecord;
    step: PendingStep;
    input: unknown;
    startedMs: number;
    started: StepAttempt;
    meta: StepMeta;
    signal: AbortSignal | undefined;
  }) {
    const { job, signal } = init;
    this.runId = job.data.runId;
    this.stepId = job.data.stepId;
    this.jobId = init.jobId;
    this.attempt = init.started.attempt;
    this.failures = job.attemptsMade + 1;
    this.queuedAt = job.timestamp;
    this.run = init.run;
    this.step = init.step;
    this.input = init.input;
    this.meta = init.meta;
    this.meta.src = init.step.src;
    this.started = init.started;
    this.startedMs = init.startedMs;
    signal?.addEventListener('abort', () => this.controller.abort(signal.reason), { once: true });
  }

  get src(): string {
    return this.step.src;
  }

  /** Aborted when BullMQ cancels the job, or when the run turns out not to wait for the step. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether the step was stopped because its run no longer waits for it (its result goes nowhere). */
  get noLongerWaited(): boolean {
    return this.stopped;
  }

  /**
   * The attempt's record, ending now; `retryInMs` when it is retried after that long. A start record not sent yet
   * is not sent: the start goes with this record.
   */
  finish(outcome: NonNullable<StepAttempt['outcome']>, error?: DvxError, retryInMs?: number): FinishedAttempt {
    clearImmediate(this.startRecord);
    const endedMs = Date.now();
    const record: StepAttempt = {
      ...this.started,
      endedAt: new Date(endedMs).toISOString(),
      durationMs: endedMs - this.startedMs,
      outcome,
      ...(error ? { error: error.toJSON() } : {}),
      ...(retryInMs !== undefined ? { retryAt: new Date(endedMs + retryInMs).toISOString() } : {}),
    };
    return { meta: this.meta, record };
  }

  /** Records the start one event-loop turn from now, checking that the run still waits for the step. */
  recordStartSoon(store: RunStore, logger: Logger): void {
    this.startRecord = setImmediate(() => {
      store
        .recordStepStart(this.runId, this.jobId, this.meta, this.started)
        .then((found) => {
          // 'ahead' means Redis lost the write that started this job: the step runs on, its result meets the
          // compare-and-set, and the run repeats or reuses it (same operation id) once it is back at this step.
          if (found !== 'stale') return;
          this.stopped = true;
          this.controller.abort(
            new DvxError({
              code: 'RUN_CANCELLED',
              message: `Run ${this.runId} no longer waits for step ${this.stepId}.`,
            }),
          );
        })
        .catch((error: unknown) =>
          logger.warn(
            { runId: this.runId, jobId: this.jobId, err: toDvxError(error).toJSON() },
            'could not record the start of a step',
          ),
        );
    });
  }
}

/** Options of {@link StepTakeUp}. */
export interface StepTakeUpOptions {
  store: RunStore;
  /** The runs the driver keeps; the same instance as the driver's. */
  liveRuns: LiveRuns;
  logger?: Logger;
}

/** Takes up step jobs, from memory when this engine wrote their run's last transition, from Redis otherwise. */
export class StepTakeUp {
  private readonly store: RunStore;
  private readonly liveRuns: LiveRuns;
  private readonly logger: Logger;

  constructor(options: StepTakeUpOptions) {
    this.store = options.store;
    this.liveRuns = options.liveRuns;
    this.logger = options.logger ?? silentLogger;
  }

  /** Decides whether job `job` runs; `signal` is BullMQ's for the job. */
  async takeUp(job: Job<StepJobData>, signal?: AbortSignal): Promise<TakeUp> {
    const { runId, stepId, seq } = job.data;
    const jobId = job.id ?? stepJobId(runId, seq, stepId);
    const startedMs = Date.now();
    // Every start is an attempt of its own: one cut short by a stopped engine (BullMQ's stalled job, run again
    // without counting it as made) keeps its record, and `dvx run show` lists it as interrupted.
    const started: StepAttempt = {
      attempt: job.attemptsMade + job.stalledCounter + 1,
      startedAt: new Date(startedMs).toISOString(),
    };
    const meta: StepMeta = { stepId, src: job.data.src, jobId, operationId: jobId, seq, startedAt: started.startedAt };
    const known = await this.liveRuns.waitingFor(runId, jobId);
    if (known) {
      const step = this.pendingStep(known, jobId);
      // A run kept in memory shares objects with the driver's snapshot: the handler gets its own copy, as from Redis.
      const input = JSON.parse(JSON.stringify(step.input ?? null)) as unknown;
      const taken = new TakenStep({ job, jobId, run: known, step, input, startedMs, started, meta, signal });
      taken.recordStartSoon(this.store, this.logger);
      return { status: 'ready', step: taken };
    }
    const began = await this.store.beginStep(runId, jobId, meta, started);
    if (began.status === 'ahead')
      return { status: 'ahead', retryInMs: Math.min(Math.max((Date.now() - job.timestamp) / 2, 50), 30_000) };
    if (began.status === 'stale') return { status: 'stale' };
    const step = this.pendingStep(began.run, jobId);
    return {
      status: 'ready',
      step: new TakenStep({ job, jobId, run: began.run, step, input: step.input, startedMs, started, meta, signal }),
    };
  }

  private pendingStep(run: RunRecord, jobId: string): PendingStep {
    const step = run.pending.find((pending) => pending.jobId === jobId);
    // Both take-up paths found the job pending in the run.
    if (!step)
      throw new DvxError({
        code: 'INTERNAL',
        message: `Run ${run.id} was taken up for job ${jobId}, which it does not wait for.`,
      });
    return step;
  }
}
