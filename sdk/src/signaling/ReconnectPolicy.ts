import { backoffDelay } from './backoff.js';

/** What a {@link ReconnectPolicy} knows when it decides about the next attempt. */
export interface ReconnectContext {
  /** Attempts that failed so far in this outage (0 before the first). */
  readonly retryCount: number;
  /** Time since the connection was lost, ms. */
  readonly elapsedMs: number;
  /** Why the last attempt failed, or why the connection was lost before the first. */
  readonly retryReason?: Error;
}

/**
 * Decides how long to wait before each reconnection attempt (signaling reconnects and ICE
 * restarts alike), as LiveKit's `ReconnectPolicy`: `null` gives up and the room disconnects with
 * `ConnectionError` `CONNECTION_FAILED`. Set one with `new Room({ reconnectPolicy })`.
 */
export interface ReconnectPolicy {
  nextRetryDelayInMs(context: ReconnectContext): number | null;
}

export interface DefaultReconnectPolicyOptions {
  /** Attempts before giving up. */
  maxAttempts: number;
  /** Delay before the second attempt, ms (the first is immediate); doubled per attempt with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** The first attempt at once, then the SDK's jittered exponential backoff, up to `maxAttempts`. */
export class DefaultReconnectPolicy implements ReconnectPolicy {
  readonly #options: DefaultReconnectPolicyOptions;

  constructor(options: DefaultReconnectPolicyOptions) {
    this.#options = options;
  }

  nextRetryDelayInMs({ retryCount }: ReconnectContext): number | null {
    const { maxAttempts, baseDelayMs, maxDelayMs } = this.#options;
    if (retryCount >= maxAttempts) return null;
    return retryCount === 0 ? 0 : backoffDelay(retryCount, baseDelayMs, maxDelayMs);
  }
}
