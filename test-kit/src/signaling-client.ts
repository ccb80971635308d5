import { WebSocket } from 'ws';
import type { ServerMessage, ServerNotificationMethod, ServerNotifications, SignalingMethod, SignalingRequests } from '@telemed/sdk/protocol';
import { waitFor } from './wait.js';

/** What the server answered a refused request with. */
export interface SignalingFailure {
  code: string;
  message: string;
}

export interface SignalingConnectOptions {
  /** The media server's signaling URL (`ws://host:port/rtc`). */
  url: string;
  token: string;
  /** Proof of an earlier session, to resume it. */
  resume?: { participantId: string; key: string };
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

/**
 * A Node signaling client typed by the protocol, for tests that need the raw socket too: every
 * message is kept, requests resolve with their response data or reject with the server's failure.
 */
export class TestSignalingClient {
  readonly socket: WebSocket;
  /** Every message received, the welcome included. */
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<SocketClose>;
  welcome!: ServerNotifications['welcome'];
  readonly #pending = new Map<number, { resolve: (data: unknown) => void; reject: (failure: SignalingFailure) => void }>();
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a socket and resolves once the server's welcome arrived (rejects if it closes first). */
  static async connect(options: SignalingConnectOptions): Promise<TestSignalingClient> {
    const url = new URL(options.url);
    url.searchParams.set('token', options.token);
    if (options.resume) {
      url.searchParams.set('resume', options.resume.participantId);
      url.searchParams.set('key', options.resume.key);
    }
    const client = new TestSignalingClient(new WebSocket(url));
    await new Promise<void>((resolve, reject) => {
      client.socket.on('error', reject);
      void client.closed.then((close) => reject(new SignalingRefusedError(close)));
      client.socket.on('message', (raw) => {
        const message = JSON.parse(raw.toString()) as ServerMessage;
        client.messages.push(message);
        if (message.type === 'response') {
          const waiter = message.id === null ? undefined : client.#pending.get(message.id);
          if (!waiter || message.id === null) return;
          client.#pending.delete(message.id);
          if (message.ok) waiter.resolve(message.data);
          else waiter.reject(message.error);
        } else if (message.method === 'welcome') {
          client.welcome = message.data as ServerNotifications['welcome'];
          resolve();
        }
      });
    });
    return client;
  }

  request<M extends SignalingMethod>(method: M, data: SignalingRequests[M]['request']): Promise<SignalingRequests[M]['response']> {
    const id = this.#nextId++;
    this.socket.send(JSON.stringify({ type: 'request', id, method, data }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve: resolve as (data: unknown) => void, reject }));
  }

  /** The failure a request must get; throws if the server accepted it. */
  async failure<M extends SignalingMethod>(method: M, data: SignalingRequests[M]['request']): Promise<SignalingFailure> {
    try {
      await this.request(method, data);
    } catch (error) {
      return error as SignalingFailure;
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

  /** Drops the connection without a closing handshake (a lost network) and waits until it is gone. */
  async terminate(): Promise<SocketClose> {
    this.socket.terminate();
    return this.closed;
  }

  async close(): Promise<SocketClose> {
    this.socket.close();
    return this.closed;
  }
}
