import { EventEmitter } from 'node:events';

/** Event name → listener arguments. */
export type EventMap = Record<string, unknown[]>;

/**
 * The media server's event emitter (mediasoup's EnhancedEventEmitter is the model): `safeEmit`
 * keeps a throwing listener from breaking the code that emitted (a room closing, a worker dying),
 * and there is no listener limit: a room has a listener per feature, not per participant, but a
 * server with many rooms has many listeners on its RoomManager and WorkerPool.
 */
export class SafeEmitter<Events extends EventMap> extends EventEmitter {
  readonly #onListenerError: (event: string, error: unknown) => void;

  constructor(onListenerError: (event: string, error: unknown) => void) {
    super();
    this.setMaxListeners(0);
    this.#onListenerError = onListenerError;
  }

  /** Calls every listener of `event`; a listener that throws is reported, and the others still run. */
  safeEmit<E extends keyof Events & string>(event: E, ...args: Events[E]): boolean {
    const listeners = this.rawListeners(event) as ((...a: Events[E]) => unknown)[];
    for (const listener of listeners) {
      try {
        listener.apply(this, args);
      } catch (error) {
        this.#onListenerError(event, error);
      }
    }
    return listeners.length > 0;
  }

  override on<E extends keyof Events & string>(event: E, listener: (...args: Events[E]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override once<E extends keyof Events & string>(event: E, listener: (...args: Events[E]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  override off<E extends keyof Events & string>(event: E, listener: (...args: Events[E]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  override emit<E extends keyof Events & string>(event: E, ...args: Events[E]): boolean {
    return super.emit(event, ...args);
  }
}
