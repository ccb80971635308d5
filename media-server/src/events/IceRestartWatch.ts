import type { types } from 'mediasoup';

export interface IceRecovery {
  /** From the first restart request of the outage to the last restarted transport connected again. */
  offlineMs: number;
  /** restartIce requests during the outage. */
  restarts: number;
}

export interface IceRestartWatchOptions {
  /** The media path is back after the outage's restarts (once per outage, not for a quiet one). */
  onRecovered: (recovery: IceRecovery) => void;
  /** An outage whose restarts never connect is forgotten after this long, ms. */
  maxPendingMs?: number;
}

interface Outage {
  startedAt: number;
  restarts: number;
  /** Part of another reconnection (a socket resume): followed, not reported. */
  quiet: boolean;
  /** Restarted transports not connected again yet, with the function that stops watching each. */
  waiting: Map<types.WebRtcTransport, () => void>;
  connected: number;
  timer: NodeJS.Timeout;
}

/**
 * Follows one participant's ICE restarts and says when its media path is back: once per outage,
 * however many restartIce requests the client sent for it (one per transport and attempt).
 *
 * A restarted transport counts as connected again on its next `icestatechange` to connected or
 * completed, or its next `iceselectedtuplechange`. mediasoup 3.12's ICE-lite server keeps a quiet
 * UDP path 'completed' (it has no consent checks), so after a blocked path comes back there is no
 * state change; the client's new ICE generation nominates a new pair instead (Chromium gathers new
 * ports on a restart), which mediasoup reports as a selected-tuple change. A TCP path that closed
 * goes 'disconnected' and then through a state change.
 */
export class IceRestartWatch {
  readonly #options: IceRestartWatchOptions;
  #outage: Outage | undefined;

  constructor(options: IceRestartWatchOptions) {
    this.#options = options;
  }

  /** True while restarted transports have not connected again. */
  get pending(): boolean {
    return this.#outage !== undefined;
  }

  /** A restartIce request for `transport` was answered; `quiet` when it belongs to another reconnection. */
  restarted(transport: types.WebRtcTransport, quiet = false): void {
    if (transport.closed) return;
    const outage = (this.#outage ??= {
      startedAt: Date.now(),
      restarts: 0,
      quiet,
      waiting: new Map(),
      connected: 0,
      timer: setTimeout(() => this.close(), this.#options.maxPendingMs ?? 300_000).unref(),
    });
    outage.restarts++;
    outage.quiet ||= quiet;
    if (outage.waiting.has(transport)) return;
    const onState = (state: types.IceState): void => {
      if (state === 'connected' || state === 'completed') this.#settle(transport, true);
    };
    const onTuple = (): void => this.#settle(transport, true);
    const onClose = (): void => this.#settle(transport, false);
    // mediasoup's channel resolves a request at once but emits notifications on setImmediate, so
    // what the worker said before it answered the restart (the old ICE generation connecting, say)
    // reaches listeners after this call. Listening one tick later skips those stale notices: a new
    // generation cannot connect before the client has the new credentials.
    const listen = setImmediate(() => {
      transport.on('icestatechange', onState);
      transport.on('iceselectedtuplechange', onTuple);
    });
    transport.observer.on('close', onClose);
    outage.waiting.set(transport, () => {
      clearImmediate(listen);
      transport.off('icestatechange', onState);
      transport.off('iceselectedtuplechange', onTuple);
      transport.observer.off('close', onClose);
    });
  }

  #settle(transport: types.WebRtcTransport, connected: boolean): void {
    const outage = this.#outage;
    const stop = outage?.waiting.get(transport);
    if (!outage || !stop) return;
    stop();
    outage.waiting.delete(transport);
    if (connected) outage.connected++;
    if (outage.waiting.size > 0) return;
    this.close();
    if (outage.connected > 0 && !outage.quiet) this.#options.onRecovered({ offlineMs: Date.now() - outage.startedAt, restarts: outage.restarts });
  }

  /** Stops watching (the outage, if any, is not reported). Idempotent. */
  close(): void {
    const outage = this.#outage;
    if (!outage) return;
    this.#outage = undefined;
    clearTimeout(outage.timer);
    for (const stop of outage.waiting.values()) stop();
  }
}
