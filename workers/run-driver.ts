import { EventEmitter } from 'node:events';
import type { Queue } from 'bullmq';
import { initialTransition, type AnyEventObject, type AnyMachineSnapshot, type StateValue } from 'xstate';
import { DvxError, type SerializedError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { activeInvokes, outcomeOf, pureTransition, type Lifecycle, type LifecycleOutcome } from '../machines/index.js';
import { newRunId } from '../model/ids.js';
import { objectKey } from '../model/keys.js';
import type { PendingStep, RunRecord, RunStatus, TransitionLogEntry } from '../model/run-record.js';
import type { FinishedAttempt, RunStore, RunUpdate } from '../model/run-store.js';
import { stepDelayMs, stepJobId, type StepJobData } from './step-job.js';
import { LiveRuns, writesIssued } from './step-take-up.js';

/** Options of {@link RunDriver}. */
export interface RunDriverOptions {
  store: RunStore;
  /** The step queue: every started step becomes a job on it. */
  queue: Queue<StepJobData>;
  lifecycles: Iterable<Lifecycle<never>>;
  logger?: Logger;
  /** Attempts a transition is retried when another writer moved the run first. @defaultValue 50 */
  maxConflictRetries?: number;
  /**
   * Where running runs whose last transition this driver wrote are kept (record and machine snapshot), so that
   * taking up and finishing their next step reads nothing back from Redis; the step worker takes steps up from
   * the same instance. Only a hint: see workers/step-take-up.ts.
   * @defaultValue its own, on unless the environment variable DVX_LIVE_RUN_CACHE is `off`
   */
  liveRuns?: LiveRuns;
}

/** How a run is started. */
export interface StartRunOptions {
  /** The object the run acts on; it is locked for the run's duration. */
  objectType: string;
  objectId: string;
  /** More objects to lock, as `<type>/<id>`. */
  extraLocks?: string[];
  /** Who asked, for the transition log. @defaultValue `'engine'` */
  requestedBy?: string;
  /** Use this id instead of a new one (the service layer may need it before the run exists). */
  runId?: string;
}

/** Events of {@link RunDriver}, emitted in the process that wrote the transition. */
export interface RunDriverEvents {
  /** A run was created (its first state written). */
  started: [run: RunRecord];
  /** A run reached a final state; `run` is the record as written. */
  ended: [runId: string, kind: string, status: RunStatus, run: RunRecord];
  /**
   * A step's result was applied: `stepId` finished with `outcome`, its last attempt lasting `durationMs` when known;
   * `run` is the record as written and `error` the step's error for an `error` outcome.
   */
  stepEnded: [
    runId: string,
    kind: string,
    stepId: string,
    outcome: 'done' | 'error',
    durationMs: number | undefined,
    run: RunRecord,
    error: SerializedError | undefined,
  ];
}

/** What became of a delivered event. */
export type DeliveryOutcome = 'applied' | 'stale' | 'unknown-run';

function doneEvent(stepId: string, output: unknown): AnyEventObject {
  // As JSON, the form every other path sees it in (a result read back from Redis, a completed job's return value):
  // a step behaves the same whichever engine or path applies its result, and its handler keeps no reference into
  // the run's state.
  return {
    type: `xstate.done.actor.${stepId}`,
    output: output === undefined ? null : ((JSON.parse(JSON.stringify(output)) as unknown) ?? null),
    actorId: stepId,
  };
}

function errorEvent(stepId: string, error: SerializedError): AnyEventObject {
  return { type: `xstate.error.actor.${stepId}`, error, actorId: stepId };
}

const STEP_RESULT_EVENT = /^xstate\.(done|error)\.actor\.(.+)$/;

/** The step and outcome of a step-result event (`xstate.done.actor.<stepId>`, `xstate.error.actor.<stepId>`). */
function stepResultOf(type: string): { stepId: string; outcome: 'done' | 'error' } | undefined {
  const [, outcome, stepId] = STEP_RESULT_EVENT.exec(type) ?? [];
  if (!stepId || (outcome !== 'done' && outcome !== 'error')) return undefined;
  return { stepId, outcome };
}

function statusOf(snapshot: AnyMachineSnapshot): RunStatus {
  if (snapshot.status !== 'done') return 'running';
  return outcomeOf(snapshot.value) ?? 'failed';
}

function runError(snapshot: AnyMachineSnapshot, status: RunStatus): SerializedError | undefined {
  if (status === 'running' || status === 'succeeded') return undefined;
  const error = (snapshot.context as { error?: SerializedError | null }).error;
  return error ?? undefined;
}

/**
 * Drives lifecycle machines durably: XState's pure transition, a compare-and-set persist of the snapshot with a
 * transition-log entry, then one job per started step (its id derived from run, sequence and step, so a repeat
 * enqueue is a no-op). Step results come back through {@link deliver}; a result for a step the run is no longer
 * waiting for (stale or duplicate) changes nothing.
 */
export class RunDriver {
  readonly events = new EventEmitter<RunDriverEvents>();
  private readonly store: RunStore;
  private readonly queue: Queue<StepJobData>;
  private readonly lifecycles = new Map<string, Lifecycle<never>>();
  private readonly logger: Logger;
  private readonly maxConflictRetries: number;
  private readonly live: LiveRuns;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(options: RunDriverOptions) {
    this.store = options.store;
    this.queue = options.queue;
    this.logger = options.logger ?? silentLogger;
    this.maxConflictRetries = options.maxConflictRetries ?? 50;
    this.live = options.liveRuns ?? new LiveRuns();
    for (const lifecycle of options.lifecycles) this.lifecycles.set(lifecycle.kind, lifecycle);
  }

  /** The runs this driver keeps in memory, for taking up their steps. */
  get liveRuns(): LiveRuns {
    return this.live;
  }

  lifecycle(kind: string): Lifecycle<never> {
    const lifecycle = this.lifecycles.get(kind);
    if (!lifecycle)
      throw new DvxError({
        code: 'VALIDATION_FAILED',
        message: `Unknown run kind "${kind}".`,
        action: `Use one of: ${[...this.lifecycles.keys()].join(', ')}.`,
      });
    return lifecycle;
  }

  /** Starts a run: locks its object, persists the first state, enqueues its first step. */
  async start(kind: string, input: Record<string, unknown>, options: StartRunOptions): Promise<RunRecord> {
    const lifecycle = this.lifecycle(kind);
    const runId = options.runId ?? newRunId();
    const [snapshot, actions] = initialTransition(lifecycle.machine, { ...input, runId });
    const seq = 1;
    const pending = this.spawned(runId, seq, actions);
    const status = statusOf(snapshot);
    const error = runError(snapshot, status);
    const actor = options.requestedBy ?? 'engine';
    const run = await this.store.create({
      id: runId,
      kind,
      machineVersion: lifecycle.version,
      status,
      state: { value: snapshot.value, context: snapshot.context },
      pending,
      objectType: options.objectType,
      objectId: options.objectId,
      locks: [objectKey(options.objectType, options.objectId), ...(options.extraLocks ?? [])],
      requestedBy: actor,
      log: this.logEntry(seq, { type: 'xstate.init' }, null, snapshot.value, pending, actor),
      ...(error ? { error } : {}),
    });
    this.logger.info({ runId, kind, objectType: options.objectType, objectId: options.objectId }, 'run started');
    this.live.remember(run, snapshot, Promise.resolve(true));
    this.events.emit('started', run);
    if (status !== 'running') this.events.emit('ended', runId, kind, status, run);
    await this.enqueue(run.id, pending);
    return run;
  }

  /**
   * Feeds a step's result back into its run. `jobId` identifies the step execution the result is for.
   * `known.run` is the run as the worker read it when it took up the step (saves a read if nothing moved since);
   * `known.finished` is the attempt that produced the result, recorded in the same write as the transition.
   */
  async deliverResult(
    runId: string,
    jobId: string,
    stepId: string,
    result: { output: unknown } | { error: SerializedError },
    known: { run?: RunRecord; finished?: FinishedAttempt } = {},
  ): Promise<DeliveryOutcome> {
    const event = 'error' in result ? errorEvent(stepId, result.error) : doneEvent(stepId, result.output);
    const outcome = await this.deliver(runId, event, { jobId, actor: 'engine', ...known });
    if (outcome !== 'applied' && known.finished) await this.store.recordAttempt(runId, known.finished);
    return outcome;
  }

  /**
   * Delivers a step's result as {@link deliverResult} does, but resolves as soon as the transition and the jobs it
   * starts are on their way to Redis, not when Redis confirms them. The step worker uses it so that completing the
   * step's job (which also fetches the next one) travels in the same round trip as the transition; the delivery
   * goes on in the background, conflict retries included, and {@link settle} waits for it. Should it fail, the
   * step's job has completed with its output, and the reconciler delivers that output to the run.
   */
  async sendResult(
    runId: string,
    jobId: string,
    stepId: string,
    result: { output: unknown },
    known: { run?: RunRecord; finished?: FinishedAttempt } = {},
  ): Promise<void> {
    const delivery = this.deliverResult(runId, jobId, stepId, result, known).catch(async (error: unknown) => {
      this.logger.warn(
        { runId, jobId, err: error instanceof DvxError ? error.toJSON() : String(error) },
        'step result not applied yet; the reconciler will apply it',
      );
      if (known.finished) await this.store.recordAttempt(runId, known.finished).catch(() => undefined);
    });
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
    // The job's completion, which fetches the next job, goes out once the transition and its job adds are written.
    await writesIssued();
  }

  /** Waits for the deliveries {@link sendResult} left running. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Asks a run to stop: it takes its failure path at the next step boundary and ends cancelled. */
  async cancel(runId: string, requestedBy = 'engine'): Promise<DeliveryOutcome> {
    const outcome = await this.deliver(runId, { type: 'CANCEL' }, { actor: requestedBy });
    if (outcome !== 'applied') return outcome;
    // A step waiting in the queue (or for its next retry) is withdrawn and fails as cancelled now.
    const run = await this.store.get(runId);
    for (const step of run?.pending ?? []) {
      const job = await this.queue.getJob(step.jobId);
      const state = job ? await job.getState() : 'unknown';
      if (!job || !['delayed', 'waiting', 'prioritized'].includes(state)) continue;
      try {
        await job.remove();
      } catch {
        continue; // picked up meanwhile: its result will meet the cancellation at the step boundary
      }
      await this.deliverResult(runId, step.jobId, step.stepId, {
        error: new DvxError({
          code: 'RUN_CANCELLED',
          message: `The run was cancelled by ${requestedBy} before step ${step.stepId} ran.`,
        }).toJSON(),
      });
    }
    return outcome;
  }

  /** Whether a run has been asked to cancel. */
  async isCancelRequested(runId: string): Promise<boolean> {
    const run = await this.store.get(runId);
    return Boolean((run?.state.context as { cancelRequested?: boolean } | undefined)?.cancelRequested);
  }

  /**
   * Applies one event to a run: resolve the stored snapshot, transition, compare-and-set persist, enqueue the
   * steps it started. Retries from a fresh read when another writer moved the run in between.
   */
  async deliver(
    runId: string,
    event: AnyEventObject,
    options: { jobId?: string; actor?: string; run?: RunRecord; finished?: FinishedAttempt } = {},
  ): Promise<DeliveryOutcome> {
    for (let attempt = 0; attempt < this.maxConflictRetries; attempt += 1) {
      const run = attempt === 0 && options.run ? options.run : await this.store.get(runId);
      if (!run) return 'unknown-run';
      if (run.status !== 'running') return 'stale';
      if (options.jobId && !run.pending.some((step) => step.jobId === options.jobId)) return 'stale';

      const lifecycle = this.lifecycles.get(run.kind);
      if (!lifecycle || lifecycle.version !== run.machineVersion) {
        if (await this.failUnresumable(run, lifecycle)) return 'applied';
        continue; // someone else moved the run first: decide again from a fresh read
      }
      const machine = lifecycle.machine;
      const current =
        this.live.snapshotAt(runId, run.seq) ??
        machine.resolveState({ value: run.state.value as StateValue, context: run.state.context });
      const [next, actions] = pureTransition(machine, current, event);
      const seq = run.seq + 1;
      const started = this.spawned(runId, seq, actions);
      const startedIds = new Set(started.map((step) => step.stepId));
      const active = new Set(activeInvokes(machine, next.value as StateValue).map((invoke) => invoke.id));
      const pending = [
        ...run.pending.filter((step) => active.has(step.stepId) && !startedIds.has(step.stepId)),
        ...started,
      ];
      const status = statusOf(next);
      const error = runError(next, status);
      const update: RunUpdate = {
        expectedSeq: run.seq,
        seq,
        status,
        state: { value: next.value, context: next.context },
        pending,
        log: this.logEntry(seq, event, run.state.value, next.value, started, options.actor ?? 'engine', options.jobId),
        ...(error ? { error } : {}),
      };
      // The jobs go out right behind the transition, without waiting for its reply: one round trip for both. On
      // the engine's shared connection Redis applies the transition first; a job seen before its transition waits
      // for it in the step worker. If the compare-and-set fails, a job it started is a leftover that the
      // step worker drops: the run has moved past the job's sequence without waiting for it.
      const persisted = this.store.persist(run, update, options.finished);
      const enqueued = started.length > 0 ? this.enqueue(runId, started) : Promise.resolve();
      const live = this.live.remember(
        this.updated(run, update),
        next,
        persisted.catch(() => false),
      );
      const [written, queued] = await Promise.allSettled([persisted, enqueued]);
      if (written.status === 'rejected' || !written.value) {
        this.live.delete(runId, live);
        if (written.status === 'rejected') throw written.reason;
        continue;
      }
      const stepResult = stepResultOf(event.type);
      const after = this.updated(run, update);
      if (stepResult)
        this.events.emit(
          'stepEnded',
          runId,
          run.kind,
          stepResult.stepId,
          stepResult.outcome,
          options.finished?.record.durationMs,
          after,
          (event as { error?: SerializedError }).error,
        );
      if (status !== 'running') {
        this.logger.info({ runId, kind: run.kind, status }, 'run ended');
        this.events.emit('ended', runId, run.kind, status, after);
      }
      // A failed enqueue after a written transition is what the reconciler repairs; the caller still hears of it.
      if (queued.status === 'rejected') throw queued.reason;
      return 'applied';
    }
    throw new DvxError({
      code: 'INTERNAL',
      message: `Run ${runId} kept changing under ${this.maxConflictRetries} attempts to apply an event.`,
      retryable: true,
    });
  }

  /** Adds the jobs of pending steps; jobs that exist already are left alone. */
  async enqueue(runId: string, steps: PendingStep[]): Promise<void> {
    await Promise.all(
      steps.map((step) => {
        const delay = stepDelayMs(step.src, step.input);
        return this.queue.add(
          step.src,
          { runId, stepId: step.stepId, src: step.src, seq: step.seq, input: step.input },
          { jobId: step.jobId, ...(delay ? { delay } : {}) },
        );
      }),
    );
  }

  private updated(run: RunRecord, update: RunUpdate): RunRecord {
    const now = new Date().toISOString();
    const next: RunRecord = {
      ...run,
      seq: update.seq,
      status: update.status,
      state: update.state,
      pending: update.pending,
      updatedAt: now,
    };
    if (update.status !== 'running') next.endedAt = now;
    if (update.error) next.error = update.error;
    return next;
  }

  private spawned(runId: string, seq: number, actions: readonly { type: string; params?: unknown }[]): PendingStep[] {
    return actions
      .filter((action) => action.type === 'xstate.spawnChild')
      .map((action) => {
        const params = action.params as { id: string; src: string; input: unknown };
        return {
          stepId: params.id,
          src: params.src,
          jobId: stepJobId(runId, seq, params.id),
          seq,
          input: params.input ?? null,
        };
      });
  }

  private logEntry(
    seq: number,
    event: AnyEventObject,
    from: unknown,
    to: unknown,
    started: PendingStep[],
    actor: string,
    jobId?: string,
  ): TransitionLogEntry {
    const entry: TransitionLogEntry = {
      seq,
      at: new Date().toISOString(),
      event: event.type,
      from,
      to,
      started: started.map((step) => step.stepId),
      actor,
    };
    const stepResult = stepResultOf(event.type);
    if (stepResult) entry.stepId = stepResult.stepId;
    if (jobId) entry.jobId = jobId;
    const error = event.error as SerializedError | undefined;
    if (error && typeof error === 'object') entry.error = { code: String(error.code), message: String(error.message) };
    return entry;
  }

  /** Fails a run this engine cannot resume; false when the run moved since `run` was read (nothing written). */
  private async failUnresumable(run: RunRecord, lifecycle: Lifecycle<never> | undefined): Promise<boolean> {
    this.live.delete(run.id);
    const error = new DvxError({
      code: 'MACHINE_VERSION_UNSUPPORTED',
      message: lifecycle
        ? `Run ${run.id} was started by ${run.kind} machine version ${run.machineVersion}; this engine runs version ${lifecycle.version} and has no migration for it.`
        : `Run ${run.id} is of kind "${run.kind}", which this engine does not know.`,
      action: 'Finish or cancel runs before upgrading dvx, or run the dvx version that started this run.',
    }).toJSON();
    const outcome: LifecycleOutcome = 'failed';
    return this.store.persist(run, {
      expectedSeq: run.seq,
      seq: run.seq + 1,
      status: outcome,
      state: run.state,
      pending: [],
      error,
      log: this.logEntry(
        run.seq + 1,
        { type: 'dvx.unresumable', error },
        run.state.value,
        run.state.value,
        [],
        'engine',
      ),
    });
  }
}
