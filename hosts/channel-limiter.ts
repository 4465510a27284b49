import { abortReason } from './as-error.js';

/** Releases a slot taken from a {@link ChannelLimiter}; calling it more than once is harmless. */
export type ReleaseSlot = () => void;

/**
 * A FIFO semaphore bounding how many SSH channels one connection has open at once. Waiters are served in arrival
 * order; a waiter whose signal aborts leaves the queue.
 */
export class ChannelLimiter {
  readonly #max: number;
  #active = 0;
  #peak = 0;
  readonly #waiters: Array<{ grant: (release: ReleaseSlot) => void }> = [];

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxChannels must be a positive integer, not ${max}`);
    this.#max = max;
  }

  /** Channels open now. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a channel. */
  get queued(): number {
    return this.#waiters.length;
  }

  /** The most channels ever open at once. */
  get peak(): number {
    return this.#peak;
  }

  /** Waits for a free slot. Rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<ReleaseSlot> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.#active < this.#max && this.#waiters.length === 0) return Promise.resolve(this.#take());
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const waiter = {
        grant: (release: ReleaseSlot) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        if (signal) reject(abortReason(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #take(): ReleaseSlot {
    this.#active += 1;
    this.#peak = Math.max(this.#peak, this.#active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active -= 1;
      const next = this.#waiters.shift();
      if (next) next.grant(this.#take());
    };
  }
}
