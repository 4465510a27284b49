import type { Redis } from 'ioredis';

/** Options of {@link RedisHeartbeat}. */
export interface RedisHeartbeatOptions {
  /** How often a PING is sent (never while one is unanswered). @defaultValue 1000 */
  intervalMs?: number;
  /** A PING unanswered this long means Redis is stalled. @defaultValue 3000 */
  stallAfterMs?: number;
}

export const REDIS_HEARTBEAT_DEFAULTS = { intervalMs: 1_000, stallAfterMs: 3_000 };

/**
 * Tells a Redis that is connected but does not answer (stopped with SIGSTOP, swapping, stuck in a long script) from
 * one that works: the connection stays `ready` then, so only an unanswered PING shows it. The API refuses requests
 * while it is stalled instead of letting them hang.
 */
export class RedisHeartbeat {
  readonly #client: Redis;
  readonly #options: Required<RedisHeartbeatOptions>;
  #timer: NodeJS.Timeout | undefined;
  /** When the unanswered PING was sent, or null when none is. */
  #pendingSince: number | null = null;

  constructor(client: Redis, options: RedisHeartbeatOptions = {}) {
    this.#client = client;
    this.#options = { ...REDIS_HEARTBEAT_DEFAULTS, ...options };
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#beat(), this.#options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** How long the unanswered PING has been waiting, in ms (0 when none is). */
  unansweredForMs(now = Date.now()): number {
    return this.#pendingSince === null ? 0 : now - this.#pendingSince;
  }

  /** Whether a PING has waited longer than the stall limit. */
  stalled(now = Date.now()): boolean {
    return this.unansweredForMs(now) > this.#options.stallAfterMs;
  }

  #beat(): void {
    // A PING sent while disconnected would wait in the offline queue: the connection's status already says so.
    if (this.#pendingSince !== null || this.#client.status !== 'ready') return;
    const sentAt = Date.now();
    this.#pendingSince = sentAt;
    this.#client.ping().then(
      () => {
        if (this.#pendingSince === sentAt) this.#pendingSince = null;
      },
      () => {
        if (this.#pendingSince === sentAt) this.#pendingSince = null;
      },
    );
  }
}
