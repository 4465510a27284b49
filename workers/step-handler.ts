import type { Logger } from '../log/logger.js';
import type { Catalogue, DvxSteps } from '../machines/index.js';

/** What a step handler knows about the step it runs. */
export interface StepContext {
  runId: string;
  stepId: string;
  src: string;
  /** Stable across retries and re-deliveries of this step: pass it to plugin operations, name effects after it. */
  operationId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the engine shuts down or the job is cancelled. */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * Does the work of one step and returns its output (JSON, or null). It may run more than once for the same
 * operation id (at-least-once delivery), so it must be idempotent. Throw a DvxError: retryable errors are
 * retried with backoff until the step's deadline, others fail the step at once.
 */
export type StepHandler<Input = never, Output = unknown> = (input: Input, context: StepContext) => Promise<Output>;

/** The handlers of a step catalogue: one per step, taking the step's input and returning its output. */
export type HandlersOf<Steps extends Catalogue<Steps>> = {
  readonly [Src in keyof Steps]: StepHandler<Steps[Src]['input'], Steps[Src]['output']>;
};

/** The handlers of dvx's lifecycles (workers/steps). */
export type DvxStepHandlers = HandlersOf<DvxSteps>;

/** Step handlers by name (the `src` of lifecycle steps), as the worker looks them up: a view of any `HandlersOf`. */
export type StepHandlers = Readonly<Record<string, StepHandler>>;
