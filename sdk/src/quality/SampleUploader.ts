import { backoffDelay } from '../signaling/backoff.js';

export interface SampleUploaderOptions<T> {
  /** Delivers one batch; a rejection keeps the batch for a later retry. */
  send: (batch: T[]) => Promise<unknown>;
  /** Most samples kept while sending fails; the oldest are dropped beyond it. */
  maxBuffered: number;
  /** Most samples per request. */
  maxBatch: number;
  /** Retry backoff after a failed send: first delay and cap, ms (doubled per failure, jittered). */
  retryBaseMs: number;
  retryMaxMs: number;
}

/**
 * A bounded, ordered upload queue: `push()` never waits; one request at a time; a failed batch is
 * retried with jittered backoff; when the buffer is full the oldest samples go first.
 */
export class SampleUploader<T> {
  readonly #options: SampleUploaderOptions<T>;
  readonly #queue: T[] = [];
  #sending = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #closed = false;
  /** Samples delivered, dropped (buffer full) and failed send attempts so far. */
  readonly counts = { sent: 0, dropped: 0, failedAttempts: 0 };

  constructor(options: SampleUploaderOptions<T>) {
    this.#options = options;
  }

  /** Samples waiting to be delivered. */
  get pending(): number {
    return this.#queue.length;
  }

  push(samples: readonly T[]): void {
    if (this.#closed || samples.length === 0) return;
    this.#queue.push(...samples);
    const excess = this.#queue.length - this.#options.maxBuffered;
    if (excess > 0) {
      this.#queue.splice(0, excess);
      this.counts.dropped += excess;
    }
    if (!this.#retryTimer) void this.#flush();
  }

  /** Stops; whatever is still buffered is given up. Idempotent. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  async #flush(): Promise<void> {
    if (this.#sending || this.#closed) return;
    this.#sending = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const batch = this.#queue.slice(0, this.#options.maxBatch);
        try {
          await this.#options.send(batch);
        } catch {
          this.counts.failedAttempts++;
          const delay = backoffDelay(++this.#failures, this.#options.retryBaseMs, this.#options.retryMaxMs);
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = undefined;
            void this.#flush();
          }, delay);
          return;
        }
        this.#failures = 0;
        this.counts.sent += batch.length;
        // Samples dropped meanwhile may have shifted the head: remove exactly what was sent.
        const sent = new Set(batch);
        while (this.#queue.length > 0 && sent.has(this.#queue[0]!)) this.#queue.shift();
      }
    } finally {
      this.#sending = false;
    }
  }
}
