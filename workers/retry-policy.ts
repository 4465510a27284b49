import { createHash } from 'node:crypto';

/** How failing steps are retried. */
export interface StepRetryOptions {
  /** Delay before the second attempt; doubles each attempt. @defaultValue 500 */
  initialDelayMs?: number;
  /** Longest delay between attempts. @defaultValue 30000 */
  maxDelayMs?: number;
  /**
   * Each delay is shortened by a fraction up to this, drawn from the job id and attempt, so retries of many steps
   * spread out. @defaultValue 0.25
   */
  jitter?: number;
  /** A step whose errors stay retryable fails once this long has passed since it started. @defaultValue 900000 (15 min) */
  deadlineMs?: number;
  /** Deadlines for particular step handlers, by name. */
  deadlinesBySrc?: Readonly<Record<string, number>>;
}

export const DEFAULT_STEP_RETRY: Required<StepRetryOptions> = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  jitter: 0.25,
  deadlineMs: 15 * 60_000,
  deadlinesBySrc: {},
};

/** Exponential backoff with jitter. `attemptsMade` counts attempts that already failed (1 after the first). */
export class RetryPolicy {
  readonly options: Required<StepRetryOptions>;

  constructor(options: StepRetryOptions = {}) {
    this.options = { ...DEFAULT_STEP_RETRY, ...options };
  }

  /** The delay without jitter: the longest the next attempt can wait. */
  ceilingDelay(attemptsMade: number): number {
    const exponent = Math.min(Math.max(attemptsMade - 1, 0), 30);
    return Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** exponent);
  }

  /**
   * The delay before the attempt after `attemptsMade` of job `jobId`: the ceiling, shortened by a jitter that is the
   * same for the same job and attempt. The step worker records it as the failed attempt's `retryAt`, and BullMQ's
   * backoff waits it: computed twice, it is one value.
   */
  delay(attemptsMade: number, jobId: string): number {
    const ceiling = this.ceilingDelay(attemptsMade);
    return Math.round(ceiling * (1 - this.options.jitter * jitterFraction(`${jobId}#${attemptsMade}`)));
  }

  deadlineFor(src: string): number {
    return this.options.deadlinesBySrc[src] ?? this.options.deadlineMs;
  }

  /** Whether one more attempt still fits before the deadline of a step started at `startedAt`. */
  mayRetry(src: string, startedAt: number, attemptsMade: number, now = Date.now()): boolean {
    return now + this.ceilingDelay(attemptsMade) <= startedAt + this.deadlineFor(src);
  }
}

/** A fraction in [0, 1) that spreads evenly over keys and is the same for the same key. */
function jitterFraction(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
}
