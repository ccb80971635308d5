import { WebSocket } from 'ws';
import type { ServerMessage, ServerNotificationMethod, ServerNotifications, SignalingMethod, SignalingRequests } from '@telemed/sdk/protocol';
import { waitFor } from './wait.js';

/** What the server answered a refused request with. */
export interface SignalingFailure {
  code: string;
  message: string;
}

/**
 * A request that did not succeed: `code` and `message` are the server's answer, or `CLOSED` (the
 * socket closed first) or `TIMEOUT` (no answer within `requestTimeoutMs`).
 */
export class SignalingRequestError extends Error implements SignalingFailure {
  override readonly name = 'SignalingRequestError';
  constructor(
    readonly method: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SignalingConnectOptions {
  /** The media server's signaling URL (`ws://host:port/rtc`). */
  url: string;
  token: string;
  /** Proof of an earlier session, to resume it. */
  resume?: { participantId: string; key: string };
  /**
   * Requests are held back to at most this many per rolling second. The server answers a request
   * over its per-connection limit (50/s) with an id-less RATE_LIMITED that no caller could match,
   * so load generators pace themselves below it.
   */
  pace?: { maxPerSecond: number };
  /** A request not answered in this time rejects with `TIMEOUT` (default: it waits as long as the socket is open). */
  requestTimeoutMs?: number;
  /** Keep every message in `messages` (default true); load bots with long lives turn it off and use `on`. */
  keepMessages?: boolean;
  /** Called with an error response the server could not tie to a request (no id), e.g. RATE_LIMITED. */
  onUnmatchedFailure?: (failure: SignalingFailure) => void;
}

export interface SocketClose {
  code: number;
  reason: string;
}

/** The server closed the socket before its welcome (a refused token, a full or draining room). */
export class SignalingRefusedError extends Error {
  override readonly name = 'SignalingRefusedError';
  constructor(readonly close: SocketClose) {
    super(`signaling closed before the welcome: ${close.code} ${close.reason}`);
  }
}

type Listener<M extends ServerNotificationMethod> = (data: ServerNotifications[M]) => void;

interface Pending {
  method: string;
  resolve: (data: unknown) => void;
  reject: (error: SignalingRequestError) => void;
}

/**
 * The Node signaling client typed by the protocol, for tests and benchmark bots: requests resolve
 * with their response data or reject with a `SignalingRequestError`; notifications are kept in
 * `messages` (unless turned off) and passed to listeners registered with `on`.
 */
export class TestSignalingClient {
  readonly socket: WebSocket;
  /** Every message received, the welcome included (empty with `keepMessages: false`). */
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<SocketClose>;
  welcome!: ServerNotifications['welcome'];
  readonly #options: SignalingConnectOptions;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<string, ((data: unknown) => void)[]>();
  readonly #sentAt: number[] = [];
  #nextId = 1;

  private constructor(socket: WebSocket, options: SignalingConnectOptions) {
    this.socket = socket;
    this.#options = options;
    this.closed = new Promise((resolve) =>
      socket.once('close', (code, reason) => {
        const close = { code, reason: reason.toString() };
        for (const [id, waiter] of this.#pending) {
          this.#pending.delete(id);
          waiter.reject(new SignalingRequestError(waiter.method, 'CLOSED', `socket closed (${close.code} ${close.reason})`));
        }
        resolve(close);
      }),
    );
  }

  /** Opens a socket and resolves once the server's welcome arrived (rejects if it closes first). */
  static async connect(options: SignalingConnectOptions): Promise<TestSignalingClient> {
    const url = new URL(options.url);
    url.searchParams.set('token', options.token);
    if (options.resume) {
      url.searchParams.set('resume', options.resume.participantId);
      url.searchParams.set('key', options.resume.key);
    }
    const client = new TestSignalingClient(new WebSocket(url), options);
    await new Promise<void>((resolve, reject) => {
      client.socket.on('error', reject);
      void client.closed.then((close) => reject(new SignalingRefusedError(close)));
      client.socket.on('message', (raw) => {
        const message = JSON.parse(raw.toString()) as ServerMessage;
        if (options.keepMessages !== false) client.messages.push(message);
        if (message.type === 'response') {
          if (message.id === null) {
            if (!message.ok) options.onUnmatchedFailure?.(message.error);
            return;
          }
          const waiter = client.#pending.get(message.id);
          if (!waiter) return;
          client.#pending.delete(message.id);
          if (message.ok) waiter.resolve(message.data);
          else waiter.reject(new SignalingRequestError(waiter.method, message.error.code, message.error.message));
          return;
        }
        if (message.method === 'welcome') {
          client.welcome = message.data as ServerNotifications['welcome'];
          resolve();
        }
        for (const listener of client.#listeners.get(message.method) ?? []) listener(message.data);
      });
    });
    return client;
  }

  /** Calls `listener` with every later notification of `method`. */
  on<M extends ServerNotificationMethod>(method: M, listener: Listener<M>): void {
    const list = this.#listeners.get(method) ?? [];
    list.push(listener as (data: unknown) => void);
    this.#listeners.set(method, list);
  }

  async request<M extends SignalingMethod>(method: M, data: SignalingRequests[M]['request']): Promise<SignalingRequests[M]['response']> {
    if (this.#options.pace) await this.#pace(this.#options.pace.maxPerSecond);
    const id = this.#nextId++;
    this.socket.send(JSON.stringify({ type: 'request', id, method, data }));
    const timeoutMs = this.#options.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.#pending.delete(id);
              reject(new SignalingRequestError(method, 'TIMEOUT', `no answer in ${timeoutMs} ms`));
            }, timeoutMs);
      this.#pending.set(id, {
        method,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as SignalingRequests[M]['response']);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  /** The failure a request must get; throws if the server accepted it. */
  async failure<M extends SignalingMethod>(method: M, data: SignalingRequests[M]['request']): Promise<SignalingRequestError> {
    try {
      await this.request(method, data);
    } catch (error) {
      if (error instanceof SignalingRequestError) return error;
      throw error;
    }
    throw new Error(`${method} succeeded`);
  }

  /** The notifications of one method received so far, oldest first. */
  notifications<M extends ServerNotificationMethod>(method: M): ServerNotifications[M][] {
    return this.messages.flatMap((m) => (m.type === 'notification' && m.method === method ? [m.data as ServerNotifications[M]] : []));
  }

  /** Waits for a notification of `method` (matching `match`), received before or after the call. */
  nextNotification<M extends ServerNotificationMethod>(
    method: M,
    match: (data: ServerNotifications[M]) => boolean = () => true,
  ): Promise<ServerNotifications[M]> {
    return waitFor(`a ${method} notification`, () => this.notifications(method).find(match));
  }

  /** Waits for the first message matching `match` (received before or after the call) and removes it from `messages`. */
  take(match: (message: ServerMessage) => boolean): Promise<ServerMessage> {
    return waitFor('a matching signaling message', () => {
      const index = this.messages.findIndex(match);
      return index < 0 ? undefined : this.messages.splice(index, 1)[0];
    });
  }

  /** Leaves the room (the server may close the socket before it answers) and closes. */
  async leave(): Promise<SocketClose> {
    await this.request('leave', {}).catch(() => undefined);
    return this.close();
  }

  /** Drops the connection without a closing handshake (a lost network) and waits until it is gone. */
  async terminate(): Promise<SocketClose> {
    this.socket.terminate();
    return this.closed;
  }

  async close(): Promise<SocketClose> {
    this.socket.close();
    return this.closed;
  }

  async #pace(maxPerSecond: number): Promise<void> {
    for (;;) {
      const now = performance.now();
      while (this.#sentAt.length > 0 && now - (this.#sentAt[0] ?? 0) >= 1000) this.#sentAt.shift();
      if (this.#sentAt.length < maxPerSecond) {
        this.#sentAt.push(now);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000 - (now - (this.#sentAt[0] ?? now)) + 1));
    }
  }
}

/**
 * Signaling options for load-generating bots: paced below the server's per-connection rate limit
 * (50 requests/s), a deadline per request, no message log (bots live long and listen with `on`).
 */
export const BOT_SIGNALING: Omit<SignalingConnectOptions, 'url' | 'token'> = {
  pace: { maxPerSecond: 40 },
  requestTimeoutMs: 15_000,
  keepMessages: false,
  onUnmatchedFailure: (failure) => console.error(`signaling error without a request id: ${failure.code} ${failure.message}`),
};
