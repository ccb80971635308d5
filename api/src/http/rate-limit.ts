import { ApiError } from './errors.js';

/**
 * Fixed-window counters per key, in this process. With several API instances each enforces its
 * own window, so the effective limit is limit × instances: good enough against brute force.
 */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(limit: number, windowSeconds: number) {
    this.#limit = limit;
    this.#windowMs = windowSeconds * 1000;
  }

  /** Counts one hit for `key`; throws 429 with the seconds to wait once the window is full. */
  hit(key: string): void {
    const now = Date.now();
    let window = this.#windows.get(key);
    if (!window || now - window.start >= this.#windowMs) {
      if (this.#windows.size > 10_000) this.#prune(now);
      window = { start: now, count: 0 };
      this.#windows.set(key, window);
    }
    window.count += 1;
    if (window.count > this.#limit) {
      const retryAfter = Math.ceil((window.start + this.#windowMs - now) / 1000);
      throw new ApiError('RATE_LIMITED', `too many requests; retry in ${retryAfter} s`, { retryAfterSeconds: retryAfter });
    }
  }

  #prune(now: number): void {
    for (const [key, window] of this.#windows) if (now - window.start >= this.#windowMs) this.#windows.delete(key);
  }
}
