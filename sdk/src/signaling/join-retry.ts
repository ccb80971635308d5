import { backoffDelay, sleep } from './backoff.js';
import { ConnectionError, TelemedError } from '../errors.js';

export interface JoinRetryOptions {
  /** Attempts in all, at least 1. */
  attempts: number;
  /** First delay between attempts, ms (doubled per attempt with jitter, see backoffDelay). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Undoes a failed attempt's half-built state before the next one. */
  reset?: () => void;
  /** False once the caller gave up (e.g. disconnect() during the join): no further attempt. */
  stillWanted?: () => boolean;
}

/** A join step that got no answer in time: the welcome, or a signaling request of the join. */
export function isTimeout(error: unknown): boolean {
  return error instanceof TelemedError && error.code === 'TIMEOUT';
}

/**
 * Runs `attempt` until it succeeds, retrying only when it timed out (a server or link that did not
 * answer in time may answer the next time; a refusal would refuse again). After the last timed-out
 * attempt it throws `ConnectionError.joinTimedOut` with the last timeout as its cause.
 */
export async function joinWithRetry<T>(attempt: (n: number) => Promise<T>, options: JoinRetryOptions): Promise<T> {
  const attempts = Math.max(1, Math.floor(options.attempts));
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!isTimeout(error)) throw error;
      if (n >= attempts) throw ConnectionError.joinTimedOut(n, error);
      if (options.stillWanted && !options.stillWanted()) throw error;
      options.reset?.();
      await sleep(backoffDelay(n, options.baseDelayMs, options.maxDelayMs));
      if (options.stillWanted && !options.stillWanted()) throw error;
    }
  }
}
