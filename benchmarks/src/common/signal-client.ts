// A bot's signaling connection to the media server (/rtc?token=JWT): typed requests, notifications
// as callbacks, requests paced below the server's per-connection rate limit.
import { WebSocket } from 'ws';
import { issueRoomToken } from '@telemed/api/room-token';
import type { RoomGrants, ServerMessage, ServerNotificationMethod, ServerNotifications, SignalingMethod, SignalingRequests } from '@telemed/sdk/protocol';

export class SignalingRequestError extends Error {
  override readonly name = 'SignalingRequestError';
  readonly code: string;
  constructor(method: string, code: string, message: string) {
    super(`${method}: ${code} ${message}`);
    this.code = code;
  }
}

export interface RoomTokenOptions {
  secret: string;
  room: string;
  identity: string;
  grants?: Partial<RoomGrants>;
}

/** A room token from the API's own issuer: benchmarks join exactly as the apps do. */
export function roomToken({ secret, room, identity, grants }: RoomTokenOptions): string {
  return issueRoomToken(secret, {
    room,
    identity,
    grants: { canPublish: true, canSubscribe: true, canPublishData: false, roomAdmin: false, ...grants },
    ttlSeconds: 3600,
  });
}

const MAX_REQUESTS_PER_SECOND = 40;
const REQUEST_TIMEOUT_MS = 15_000;

type Listener<N extends ServerNotificationMethod> = (data: ServerNotifications[N]) => void;

export class SignalClient {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #listeners = new Map<string, ((data: unknown) => void)[]>();
  readonly #sentAt: number[] = [];
  #nextId = 1;
  welcome!: ServerNotifications['welcome'];

  private constructor(socket: WebSocket) {
    this.#socket = socket;
  }

  /** Connects and resolves once the server's welcome arrived. */
  static connect(url: string, token: string): Promise<SignalClient> {
    const client = new SignalClient(new WebSocket(`${url}?token=${encodeURIComponent(token)}`));
    return new Promise((resolve, reject) => {
      client.#socket.once('error', reject);
      client.#socket.once('close', (code, reason) => {
        reject(new Error(`signaling closed before welcome: ${code} ${reason.toString()}`));
        for (const [id, waiter] of client.#pending) {
          client.#pending.delete(id);
          waiter.reject(new SignalingRequestError(waiter.method, 'CLOSED', `socket closed (${code} ${reason.toString()})`));
        }
      });
      client.#socket.on('message', (raw) => {
        const message = JSON.parse(raw.toString()) as ServerMessage;
        if (message.type === 'response') {
          if (message.id === null) {
            console.error(`signaling error without a request id: ${message.ok ? '' : `${message.error.code} ${message.error.message}`}`);
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
          resolve(client);
        }
        for (const listener of client.#listeners.get(message.method) ?? []) listener(message.data);
      });
    });
  }

  on<N extends ServerNotificationMethod>(method: N, listener: Listener<N>): void {
    const list = this.#listeners.get(method) ?? [];
    list.push(listener as (data: unknown) => void);
    this.#listeners.set(method, list);
  }

  /**
   * Sends one request. Paced below the server's per-connection limit (50/s): the server answers a
   * request over the limit with an id-less RATE_LIMITED, which no caller could match.
   */
  async request<M extends SignalingMethod>(method: M, data: SignalingRequests[M]['request']): Promise<SignalingRequests[M]['response']> {
    await this.#pace();
    const id = this.#nextId++;
    this.#socket.send(JSON.stringify({ type: 'request', id, method, data }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new SignalingRequestError(method, 'TIMEOUT', `no answer in ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, {
        method,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as SignalingRequests[M]['response']);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** Leaves the room (the server may close the socket before it answers) and closes. */
  async leave(): Promise<void> {
    await this.request('leave', {}).catch(() => undefined);
    await this.close();
  }

  async #pace(): Promise<void> {
    for (;;) {
      const now = performance.now();
      while (this.#sentAt.length > 0 && now - (this.#sentAt[0] ?? 0) >= 1000) this.#sentAt.shift();
      if (this.#sentAt.length < MAX_REQUESTS_PER_SECOND) {
        this.#sentAt.push(now);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000 - (now - (this.#sentAt[0] ?? now)) + 1));
    }
  }

  /** Closes the socket and waits until it is closed. */
  close(): Promise<void> {
    if (this.#socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.close();
    });
  }
}
