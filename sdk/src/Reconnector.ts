import { ConnectionError } from './errors.js';
import { CloseCode } from './protocol/errors.js';
import type { ServerNotifications } from './protocol/messages.js';
import type { ReconnectPolicy } from './ReconnectPolicy.js';
import type { ResumeCredentials } from './SignalClient.js';
import { TypedEmitter } from './TypedEmitter.js';

type Welcome = ServerNotifications['welcome'];

/** What reconnecting needs of the signaling client (SignalClient; a fake in the unit tests). */
export interface ReconnectSignal {
  readonly connected: boolean;
  hold(): void;
  release(error?: Error): void;
  connect(url: string, token: string, resume?: ResumeCredentials): Promise<Welcome>;
}

/** What reconnecting needs of the WebRTC session (RtcSession). */
export interface IceSession {
  restartIce(): Promise<void>;
  readonly transportsConnected: boolean;
}

/** The room's side of reconnecting: where to, and how to adopt what the server answers. */
export interface ReconnectorOptions {
  signal: ReconnectSignal;
  url: string;
  token: string;
  policy: ReconnectPolicy;
  /** After an ICE restart, how long to wait for the transports to connect before the next attempt, ms. */
  iceRestartTimeoutMs: number;
  /** The current session's WebRTC side, if any. */
  session(): IceSession | undefined;
  /** Proof of the current server session, to resume it. */
  resumeCredentials(): ResumeCredentials | undefined;
  /** The server kept the session: adopt its new welcome (ICE is restarted next). */
  adoptResumed(welcome: Welcome): void;
  /** The server no longer has the session: build a new one for this welcome (join, republish). */
  rejoin(welcome: Welcome): Promise<void>;
}

export type ReconnectorEvents = {
  /** The connection was lost and attempts started. */
  reconnecting: [];
  /** Signaling is back: `resumed` false means the session was rebuilt. */
  reconnected: [{ resumed: boolean; durationMs: number }];
  /** An ICE restart (signaling was fine) connected the transports again. */
  iceRestored: [];
  /** Reconnecting cannot help or the policy gave up: the room is lost. */
  failed: [ConnectionError];
};

/** Close codes after which reconnecting cannot help. */
const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.Unauthorized, CloseCode.Refused, CloseCode.Removed, CloseCode.RoomClosed, CloseCode.Replaced, CloseCode.MaxDuration,
]);

export function isTerminal(error: unknown): boolean {
  if (!(error instanceof ConnectionError)) return false;
  return error.reason === 'unauthorized' || error.reason === 'refused' || (error.closeCode !== undefined && TERMINAL_CLOSE_CODES.has(error.closeCode));
}

/**
 * Brings a lost room back, waiting between attempts as the {@link ReconnectPolicy} says:
 * - the signaling socket closed: resume first (new socket for the same server session, then an
 *   ICE restart); when the server no longer has the session, rejoin (`handleSignalLost`);
 * - ICE failed while signaling is fine: new ICE credentials, same transports, until they connect
 *   within `iceRestartTimeoutMs` (`handleTransportFailure`, `handleTransportsConnected`).
 * It owns no state of the room: the room adopts the outcome through the options and the events.
 */
export class Reconnector extends TypedEmitter<ReconnectorEvents> {
  readonly #options: ReconnectorOptions;
  #mode: 'idle' | 'signal' | 'ice' = 'idle';
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #iceConnected: (() => void) | undefined;

  constructor(options: ReconnectorOptions) {
    super();
    this.#options = options;
  }

  /** True while attempts are under way. */
  get active(): boolean {
    return this.#mode !== 'idle';
  }

  /** The signaling socket closed with `error` after the room was connected. */
  handleSignalLost(error: ConnectionError): void {
    if (this.#closed) return;
    if (isTerminal(error)) {
      this.#fail(error);
      return;
    }
    void this.#reconnectSignal(error.closeCode === CloseCode.Rejoin ? 'rejoin' : 'resume', error);
  }

  /** A transport's ICE/DTLS connection failed while the room was connected. */
  handleTransportFailure(): void {
    if (this.#closed || this.#mode !== 'idle') return;
    const session = this.#options.session();
    if (session) void this.#restartIce(session);
  }

  /** Every transport is connected (again). */
  handleTransportsConnected(): void {
    this.#iceConnected?.();
    if (this.#mode !== 'ice') return;
    this.#mode = 'idle';
    this.emit('iceRestored');
  }

  /** Stops every attempt; nothing is emitted afterwards. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#mode = 'idle';
    this.#wakeUp();
    this.#iceConnected?.();
    this.removeAllListeners();
  }

  async #reconnectSignal(mode: 'resume' | 'rejoin', cause: ConnectionError): Promise<void> {
    if (this.#mode === 'signal') return;
    // An ICE restart under way gives way: the signal loop restarts ICE itself once resumed.
    const wasIdle = this.#mode === 'idle';
    this.#mode = 'signal';
    this.#wakeUp();
    const { signal, url, token } = this.#options;
    const started = Date.now();
    if (wasIdle) this.emit('reconnecting');
    signal.hold();
    let lastError: unknown = cause;
    for (let retryCount = 0; ; retryCount++) {
      const delay = this.#options.policy.nextRetryDelayInMs({ retryCount, elapsedMs: Date.now() - started, retryReason: asError(lastError) });
      if (delay === null) {
        this.#fail(ConnectionError.reconnectFailed(retryCount, lastError));
        return;
      }
      if (delay > 0) await this.#sleep(delay);
      if (this.#closed) return;
      try {
        const resume = mode === 'resume' ? this.#options.resumeCredentials() : undefined;
        const welcome = await signal.connect(url, token, resume);
        if (this.#closed) return;
        const session = this.#options.session();
        if (welcome.resumed && session) {
          this.#options.adoptResumed(welcome);
          signal.release();
          await session.restartIce();
        } else {
          await this.#options.rejoin(welcome);
          signal.release();
        }
        if (this.#closed) return;
        this.#mode = 'idle';
        this.emit('reconnected', { resumed: welcome.resumed, durationMs: Date.now() - started });
        return;
      } catch (error) {
        if (this.#closed) return;
        lastError = error;
        if (isTerminal(error)) {
          this.#fail(error as ConnectionError);
          return;
        }
        // A failure after the socket opened (e.g. the session died meanwhile): rejoin next time.
        if (signal.connected) mode = 'rejoin';
      }
    }
  }

  async #restartIce(session: IceSession): Promise<void> {
    this.#mode = 'ice';
    this.emit('reconnecting');
    const started = Date.now();
    const abandoned = (): boolean => this.#closed || this.#mode !== 'ice' || this.#options.session() !== session;
    let lastError: Error | undefined;
    for (let retryCount = 0; ; retryCount++) {
      const delay = this.#options.policy.nextRetryDelayInMs({ retryCount, elapsedMs: Date.now() - started, ...(lastError ? { retryReason: lastError } : {}) });
      if (delay === null) {
        this.#fail(ConnectionError.reconnectFailed(retryCount, new Error('ICE did not reconnect after restarts')));
        return;
      }
      if (delay > 0) await this.#sleep(delay);
      if (abandoned()) return;
      try {
        await session.restartIce();
      } catch (error) {
        if (abandoned()) return;
        // The socket is gone as well: the signal loop takes over (resume, then ICE once more).
        if (error instanceof ConnectionError) {
          this.handleSignalLost(error);
          return;
        }
        lastError = asError(error);
        continue;
      }
      if (await this.#transportsConnect(session)) {
        this.handleTransportsConnected();
        return;
      }
      if (abandoned()) return;
      lastError = new Error(`ICE did not connect within ${this.#options.iceRestartTimeoutMs} ms of a restart`);
    }
  }

  /** Resolves true once the transports are connected, false after `iceRestartTimeoutMs` or on close. */
  #transportsConnect(session: IceSession): Promise<boolean> {
    if (session.transportsConnected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#iceConnected = undefined;
        resolve(false);
      }, this.#options.iceRestartTimeoutMs);
      this.#iceConnected = () => {
        clearTimeout(timer);
        this.#iceConnected = undefined;
        resolve(!this.#closed);
      };
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = () => {
        clearTimeout(this.#timer);
        this.#wake = undefined;
        resolve();
      };
      this.#timer = setTimeout(this.#wake, ms);
    });
  }

  #wakeUp(): void {
    this.#wake?.();
  }

  #fail(error: ConnectionError): void {
    this.#mode = 'idle';
    this.emit('failed', error);
  }
}

function asError(value: unknown): Error | undefined {
  if (value === undefined) return undefined;
  return value instanceof Error ? value : new Error(String(value));
}
