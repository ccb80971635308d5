import { MEDIA_EVENTS_AUDIENCE, MEDIA_EVENTS_ISSUER, type MediaEvent, type MediaEventBatch } from '@telemed/sdk/protocol';
import { signBodyToken } from '@telemed/server-kit';
import type { Logger } from '../logger.js';
import { ApiEndpoints } from './ApiEndpoints.js';

/** A media event before the reporter stamps it with its room instance's epoch and sequence number. */
export type UnsequencedMediaEvent = MediaEvent extends infer E ? (E extends MediaEvent ? Omit<E, 'epoch' | 'seq'> : never) : never;

export interface MediaEventReporterOptions {
  /** The API's base URL, or several instances' (tried in turn); events go to `${url}/internal/media-events`. */
  url: string | readonly string[];
  /** HS256 secret shared with the API (MEDIA_WEBHOOK_SECRET). */
  secret: string;
  /** This media node's name in every batch. */
  node: string;
  logger: Logger;
  /** Most events kept while the API is unreachable; the oldest are dropped beyond it. */
  maxBuffered?: number;
  maxBatch?: number;
  /** Retry backoff: first delay and cap, ms (doubled per failure, with full jitter). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  requestTimeoutMs?: number;
}

/**
 * Sends media events to the API as signed batches (see `media-events.ts` in the protocol): a JWT
 * over the body's SHA-256, per-room sequence numbers, in order, retried with jittered backoff from a
 * bounded buffer. `report()` only queues: media never waits on the API.
 */
export class MediaEventReporter {
  readonly #options: Required<Omit<MediaEventReporterOptions, 'logger' | 'url'>> & { logger: Logger };
  readonly #api: ApiEndpoints;
  readonly #queue: MediaEvent[] = [];
  /** Room instance → its epoch and the last sequence number used. */
  readonly #instances = new WeakMap<object, { epoch: number; seq: number }>();
  /** The last epoch given out: epochs are unique and increasing within this process. */
  #lastEpoch = 0;
  #sending = false;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  /** Instances that failed since the last delivery or backoff. */
  #failedInRow = 0;
  #dropped = 0;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: MediaEventReporterOptions) {
    this.#options = {
      maxBuffered: 10_000,
      maxBatch: 100,
      retryBaseMs: 500,
      retryMaxMs: 30_000,
      requestTimeoutMs: 5_000,
      ...options,
    };
    this.#api = new ApiEndpoints(options.url);
  }

  /** Events waiting to be delivered. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Events dropped because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Queues an event of `roomInstance` and schedules a send. Each instance gets its own epoch (a room
   * rebuilt after a worker died is a new instance of the same room id) and seq from 1.
   */
  report(roomInstance: object, event: UnsequencedMediaEvent): void {
    if (this.#closed) return;
    let instance = this.#instances.get(roomInstance);
    if (!instance) {
      this.#lastEpoch = Math.max(Date.now(), this.#lastEpoch + 1);
      instance = { epoch: this.#lastEpoch, seq: 0 };
      this.#instances.set(roomInstance, instance);
    }
    instance.seq++;
    this.#queue.push({ ...event, epoch: instance.epoch, seq: instance.seq } as MediaEvent);
    if (this.#queue.length > this.#options.maxBuffered) {
      this.#queue.splice(0, this.#queue.length - this.#options.maxBuffered);
      if (this.#dropped++ % 1000 === 0) this.#options.logger.warn({ dropped: this.#dropped }, 'media event buffer full: dropping the oldest events');
    }
    if (!this.#sending && !this.#timer) this.#schedule(0);
  }

  /** Resolves when the buffer is empty (for shutdown and tests). */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && !this.#sending) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops sending; whatever is still buffered is given up. Idempotent. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, delayMs);
    this.#timer.unref();
  }

  async #flush(): Promise<void> {
    if (this.#sending || this.#closed) return;
    this.#sending = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const events = this.#queue.slice(0, this.#options.maxBatch);
        const ok = await this.#post({ node: this.#options.node, events });
        if (!ok) {
          // Another instance is tried at once; the backoff starts once every one has failed in a row.
          if (++this.#failedInRow < this.#api.count) continue;
          this.#failedInRow = 0;
          const delay = Math.min(this.#options.retryMaxMs, this.#options.retryBaseMs * 2 ** this.#failures++);
          this.#schedule(Math.round(delay / 2 + Math.random() * (delay / 2)));
          return;
        }
        this.#failures = 0;
        this.#failedInRow = 0;
        // Events that arrived meanwhile are behind these; events dropped meanwhile shifted the head.
        const sent = new Set(events);
        while (this.#queue.length > 0 && sent.has(this.#queue[0]!)) this.#queue.shift();
      }
    } finally {
      this.#sending = false;
      if (this.#queue.length === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  async #post(batch: MediaEventBatch): Promise<boolean> {
    const body = JSON.stringify(batch);
    const token = signBodyToken({ secret: this.#options.secret, issuer: MEDIA_EVENTS_ISSUER, audience: MEDIA_EVENTS_AUDIENCE, body, expiresInSeconds: 60 });
    const url = this.#api.current;
    try {
      const res = await fetch(`${url}/internal/media-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
        signal: AbortSignal.timeout(this.#options.requestTimeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return true;
      this.#api.failed(url);
      this.#options.logger.warn({ status: res.status, api: url, events: batch.events.length }, 'the API refused a media event batch; retrying');
      return false;
    } catch (error) {
      this.#api.failed(url);
      if (this.#failures % 10 === 0)
        this.#options.logger.warn({ err: error, api: url, events: batch.events.length }, 'could not deliver media events; retrying');
      return false;
    }
  }
}
