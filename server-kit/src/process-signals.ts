/** A service that stops gracefully: `drain` finishes the work in flight (bounded by its own deadline), `stop` closes. */
export interface DrainableService<Drained> {
  drain(): Promise<Drained>;
  stop(): Promise<void>;
}

export interface SignalHooks<Drained> {
  /** The first signal: the service starts draining. */
  draining(signal: NodeJS.Signals): void;
  /** Draining ended (or failed: `error`), the service stops next. */
  drained(result: { drained?: Drained; error?: unknown }): void;
}

/**
 * The servers' graceful stop: the first SIGINT or SIGTERM drains the service, then stops it and
 * exits 0; a second signal stops it at once.
 */
export function stopOnSignals<Drained>(service: DrainableService<Drained>, hooks: SignalHooks<Drained>): void {
  let stopping = false;
  const stopAndExit = async (): Promise<void> => {
    await service.stop();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) {
        void stopAndExit();
        return;
      }
      stopping = true;
      hooks.draining(signal);
      void service.drain().then(
        (drained) => {
          hooks.drained({ drained });
          return stopAndExit();
        },
        (error: unknown) => {
          hooks.drained({ error });
          return stopAndExit();
        },
      );
    });
  }
}
