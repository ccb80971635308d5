import type { AppContext } from '../app-context.js';
import type { Logger } from '../logger.js';

export interface RingTimeoutSweeperOptions {
  context: AppContext;
  logger: Logger;
  /** How often unanswered calls are looked for. */
  intervalMs: number;
}

/**
 * Turns calls whose ring timed out into missed calls, on a timer. Safe with several API instances:
 * claimed rows are locked and skipped. One sweep runs at a time per instance.
 */
export class RingTimeoutSweeper {
  readonly #options: RingTimeoutSweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(options: RingTimeoutSweeperOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.#sweepOnce(), this.#options.intervalMs);
    this.#timer.unref();
  }

  /**
   * Sweeps now, after any sweep in progress, as if at `at` when given (tests expire a call with a
   * long ring timeout without waiting for it).
   */
  async sweepNow(at?: Date): Promise<void> {
    while (this.#running) await this.#running;
    await this.#sweepOnce(at);
  }

  /** Stops the timer and waits for a sweep in progress. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #sweepOnce(at?: Date): Promise<void> {
    this.#running ??= this.#sweep(at).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sweep(at?: Date): Promise<void> {
    const { context, logger } = this.#options;
    try {
      await context.transact((trx, outbox) => context.calls.sweep(trx, outbox, at));
    } catch (err) {
      logger.warn({ err }, 'ring timeout sweep failed');
    }
  }
}
