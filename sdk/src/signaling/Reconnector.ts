import { ConnectionError } from '../errors.js';
import { CloseCode } from '../protocol/errors.js';
import type { ServerNotifications } from '../protocol/messages.js';
import type { ReconnectPolicy } from './ReconnectPolicy.js';
import type { ResumeCredentials } from './SignalClient.js';
import { TypedEmitter } from '../TypedEmitter.js';
import type { IceServer } from '../client/api-types.js';

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

/** Where a room connects: a media node's signaling URL, a room token, and optionally TURN relays. */
export interface RoomAccessUpdate {
  url: string;
  token: string;
  iceServers?: IceServer[];
}

/**
 * Asked for a fresh room access when the media node cannot be reached, refused the room (it is
 * draining) or the room token expired: the app asks its backend (e.g. `TelemedClient.callToken`),
 * which answers the node the room lives on now, after a failover another one.
 */
export type AccessRefresher = () => Promise<RoomAccessUpdate>;

/** The room's side of reconnecting: where to, and how to adopt what the server answers. */
export interface ReconnectorOptions {
  signal: ReconnectSignal;
  url: string;
  token: string;
  /** See {@link AccessRefresher}; without it, the same URL and token are tried until the policy gives up. */
  refreshAccess?: AccessRefresher | undefined;
  /** A refreshed access was taken (its TURN relays are for the transports a rejoin builds). */
  adoptAccess?: (access: RoomAccessUpdate) => void;
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
  /** A fresh access from the refresher names another media node: the session is rebuilt there. */
  moved: [{ url: string }];
  /** Signaling is back: `resumed` false means the session was rebuilt. */
  reconnected: [{ resumed: boolean; durationMs: number }];
  /** An ICE restart (signaling was fine) connected the transports again. */
  iceRestored: [];
  /** Reconnecting cannot help or the policy gave up: the room is lost. */
  failed: [ConnectionError];
};

/** Close codes after which reconnecting cannot help. */
const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.Unauthorized,
  CloseCode.Refused,
  CloseCode.Removed,
  CloseCode.RoomClosed,
  CloseCode.Replaced,
  CloseCode.MaxDuration,
]);

/**
 * Failures a fresh access may cure: the node refused a new room (draining: the room belongs
 * elsewhere now) or the token is out of date.
 */
function isRefreshable(error: unknown): boolean {
  return error instanceof ConnectionError && (error.serverCode === 'DRAINING' || error.reason === 'unauthorized');
}

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
/**
 * After a refreshed access named the node that did not answer, the next attempt comes within this
 * many ms (not the policy's growing backoff, and not counted against its attempts): a dead node
 * leaves the registry 1-2 s after it died, and the call should move as soon as it has.
 */
export const UNREACHABLE_RETRY_MS = 200;
/** For this long after the connection was lost at most; later attempts follow the policy alone. */
export const UNREACHABLE_WINDOW_MS = 8_000;

export class Reconnector extends TypedEmitter<ReconnectorEvents> {
  readonly #options: ReconnectorOptions;
  #mode: 'idle' | 'signal' | 'ice' = 'idle';
  #url: string;
  #token: string;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #iceConnected: (() => void) | undefined;

  constructor(options: ReconnectorOptions) {
    super();
    this.#options = options;
    this.#url = options.url;
    this.#token = options.token;
  }

  /** The signaling URL attempts go to (another node's after a move). */
  get url(): string {
    return this.#url;
  }

  /** True while attempts are under way. */
  get active(): boolean {
    return this.#mode !== 'idle';
  }

  /** The signaling socket closed with `error` after the room was connected. */
  handleSignalLost(error: ConnectionError): void {
    if (this.#closed) return;
    if (isTerminal(error) && !(this.#options.refreshAccess && isRefreshable(error))) {
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
    const { signal, refreshAccess } = this.#options;
    const started = Date.now();
    if (wasIdle) this.emit('reconnecting');
    signal.hold();
    let lastError: unknown = cause;
    // Closed by a refusal a fresh access may cure: ask for one before the first attempt.
    let refresh = refreshAccess !== undefined && isRefreshable(cause);
    // The refresher named the node that just did not answer (the registry has not noticed it is
    // gone yet): ask again soon, without spending the policy's attempts (see UNREACHABLE_RETRY_MS).
    let stillThere = false;
    for (let retryCount = 0; ; retryCount += stillThere ? 0 : 1) {
      const policyDelay = this.#options.policy.nextRetryDelayInMs({ retryCount, elapsedMs: Date.now() - started, retryReason: asError(lastError) });
      if (policyDelay === null) {
        this.#fail(ConnectionError.reconnectFailed(retryCount, lastError));
        return;
      }
      const delay = stillThere ? Math.min(policyDelay, UNREACHABLE_RETRY_MS) : policyDelay;
      let sameUrl = false;
      stillThere = false;
      if (delay > 0) await this.#sleep(delay);
      if (this.#closed) return;
      if (refresh && refreshAccess) {
        try {
          const access = await refreshAccess();
          if (this.#closed) return;
          sameUrl = access.url === this.#url;
          if (access.url !== this.#url) {
            // Another node: the session there is new (nothing to resume).
            mode = 'rejoin';
            this.emit('moved', { url: access.url });
          }
          this.#url = access.url;
          this.#token = access.token;
          this.#options.adoptAccess?.(access);
          refresh = false;
        } catch (error) {
          if (this.#closed) return;
          lastError = error;
          continue;
        }
      }
      try {
        const resume = mode === 'resume' ? this.#options.resumeCredentials() : undefined;
        const welcome = await signal.connect(this.#url, this.#token, resume);
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
        if (refreshAccess && isRefreshable(error)) {
          refresh = true;
          continue;
        }
        if (isTerminal(error)) {
          this.#fail(error as ConnectionError);
          return;
        }
        // A failure after the socket opened (e.g. the session died meanwhile): rejoin next time.
        if (signal.connected) mode = 'rejoin';
        // The node did not answer at all (gone?): ask where the room lives now.
        else if (refreshAccess) {
          refresh = true;
          stillThere = sameUrl && Date.now() - started < UNREACHABLE_WINDOW_MS;
        }
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
