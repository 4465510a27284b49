/** The queue every lifecycle step runs on. */
export const STEP_QUEUE = 'dvx-steps';

export { QUEUE_PREFIX } from '../model/keys.js';

/** What a step job carries: ids and small parameters only, never secrets (job data is stored in clear). */
export interface StepJobData {
  runId: string;
  stepId: string;
  src: string;
  /** The run's sequence number when the step started. */
  seq: number;
  input: unknown;
}

/**
 * The job id of a step: the same for the same run, sequence and step, so enqueueing twice adds one job.
 * It is also the step's operation id. BullMQ forbids `:` in ids.
 */
export function stepJobId(runId: string, seq: number, stepId: string): string {
  return `${runId}-${seq}-${stepId}`;
}

/** Steps that only wait: the engine's timers are delayed jobs. `engine.wait` takes `{ delayMs }`. */
export const WAIT_STEP = 'engine.wait';

export function stepDelayMs(src: string, input: unknown): number {
  if (src !== WAIT_STEP) return 0;
  const delay = (input as { delayMs?: unknown } | null)?.delayMs;
  return typeof delay === 'number' && delay > 0 ? delay : 0;
}
