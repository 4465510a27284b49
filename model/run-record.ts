import type { SerializedError } from '../errors/index.js';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A step the run is waiting for: its invoke id, handler, job and the sequence it was started at. */
export interface PendingStep {
  stepId: string;
  src: string;
  jobId: string;
  /** The run's sequence number when the step was started; part of the job id. */
  seq: number;
  input: unknown;
}

/** The persisted machine state: XState value and context, plain JSON. */
export interface PersistedState {
  value: unknown;
  context: unknown;
}

/** One line of a run's transition log. */
export interface TransitionLogEntry {
  seq: number;
  at: string;
  /** Event type, e.g. `xstate.done.actor.clone`, `CANCEL`, `xstate.init`. */
  event: string;
  /** Step whose result this was. */
  stepId?: string;
  jobId?: string;
  /** For error events: the code and message. */
  error?: { code: string; message: string };
  from: unknown;
  to: unknown;
  /** Steps started by this transition. */
  started: string[];
  /** Who caused it: `engine`, a user, `reconciler`. */
  actor: string;
}

/** One attempt of one step. */
export interface StepAttempt {
  /** Counts every start of the step, one interrupted by an engine that stopped included. */
  attempt: number;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  /**
   * How it ended; none while it runs. `interrupted`: the engine running it stopped (killed, crashed, lost its
   * lock) before it ended, and a later attempt took the step up again; it is not stored but read so.
   */
  outcome?: 'succeeded' | 'failed' | 'retrying' | 'interrupted';
  error?: SerializedError;
  /** For retries: when the next attempt is due. */
  retryAt?: string;
}

/** What the run's timeline shows for one step job. */
export interface StepExecution {
  stepId: string;
  src: string;
  jobId: string;
  /** Stable across retries of the step; plugins use it to be idempotent. */
  operationId: string;
  seq: number;
  status: 'running' | 'succeeded' | 'failed' | 'retrying';
  attempts: StepAttempt[];
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
}

/** A run as stored. */
export interface RunRecord {
  id: string;
  kind: string;
  machineVersion: number;
  status: RunStatus;
  seq: number;
  state: PersistedState;
  pending: PendingStep[];
  objectType: string;
  objectId: string;
  /** Object keys this run holds locks on. */
  locks: string[];
  requestedBy: string;
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
  /** For failed and cancelled runs: why. */
  error?: SerializedError;
}

/** A run with its timeline, as operators read it. */
export interface RunDetail extends RunRecord {
  log: TransitionLogEntry[];
  steps: StepExecution[];
}
