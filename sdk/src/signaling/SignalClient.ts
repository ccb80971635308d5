import { ConnectionError, SignalingError } from '../errors.js';
import { CloseCode } from '../protocol/errors.js';
import type {
  NotificationMessage,
  ServerMessage,
  ServerNotificationMethod,
  ServerNotifications,
  SignalingMethod,
  SignalingRequests,
} from '../protocol/messages.js';
import { TypedEmitter } from '../TypedEmitter.js';

export type SignalClientEvents = {
  notification: [NotificationMessage];
  /** The socket closed after the welcome; `error` says why. */
  close: [ConnectionError];
};

export interface SignalClientOptions {
  /** How long to wait for the server's welcome, and for each response, in ms. */
  timeoutMs: number;
}

/** Proof of an existing session, to resume it on a new socket. */
export interface ResumeCredentials {
  participantId: string;
  key: string;
}

interface Pending {
  method: SignalingMethod;
  resolve: (data: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Queued extends Pending {
  data: unknown;
}

/**
 * The signaling socket: typed requests with responses, and server notifications. One client
 * survives reconnections: while `holding` (the room is reconnecting) requests wait in a queue and
 * are sent once a new socket is welcomed, or fail with `TIMEOUT`.
 */
export class SignalClient extends TypedEmitter<SignalClientEvents> {
  readonly #options: SignalClientOptions;
  #socket: WebSocket | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #queue: Queued[] = [];
  #holding = false;
  /** Why the last socket closed (the server removed us, say): what a request made after it fails with. */
  #closedWith: Error | undefined;

  constructor(options: SignalClientOptions) {
    super();
    this.#options = options;
  }

  get connected(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  /** Queue requests instead of failing them while there is no socket (set during reconnection). */
  hold(): void {
    this.#holding = true;
  }

  /** Stops queueing; queued requests are sent if connected, else rejected with `error`. */
  release(error?: Error): void {
    this.#holding = false;
    const queue = this.#queue;
    this.#queue = [];
    for (const item of queue) {
      clearTimeout(item.timer);
      if (this.connected) this.#send(item);
      else item.reject(error ?? this.#notConnected(item.method));
    }
  }

  /** Opens a socket (closing any previous one) and resolves with the server's welcome. */
  connect(url: string, token: string, resume?: ResumeCredentials): Promise<ServerNotifications['welcome']> {
    this.#dropSocket();
    this.#closedWith = undefined;
    const target = new URL(url);
    target.searchParams.set('token', token);
    if (resume) {
      target.searchParams.set('resume', resume.participantId);
      target.searchParams.set('key', resume.key);
    }
    const socket = new WebSocket(target.toString());
    this.#socket = socket;
    return new Promise((resolve, reject) => {
      let welcomed = false;
      const timer = setTimeout(() => {
        reject(ConnectionError.timeout(`no welcome from the media server within ${this.#options.timeoutMs} ms`));
        if (this.#socket === socket) this.#dropSocket();
      }, this.#options.timeoutMs);
      socket.onmessage = (event) => {
        const message = this.#parse(event.data);
        if (!message) return;
        if (message.type === 'notification' && message.method === 'welcome' && !welcomed) {
          welcomed = true;
          clearTimeout(timer);
          resolve((message as NotificationMessage<'welcome'>).data);
          return;
        }
        this.#dispatch(message);
      };
      socket.onerror = () => {
        // The close event that follows carries the details.
      };
      socket.onclose = (event) => {
        if (this.#socket === socket) this.#socket = undefined;
        const error = closeError(event.code, event.reason);
        // A server's decision (removed, refused, unauthorized) is final; a dropped socket is not.
        if (this.#socket === undefined && FINAL_CLOSE_CODES.has(event.code)) this.#closedWith = error;
        this.#failPending(error);
        if (!welcomed) {
          clearTimeout(timer);
          reject(error);
        } else {
          this.emit('close', error);
        }
      };
    });
  }

  /**
   * Sends a request and resolves with the response data, or rejects with a {@link SignalingError}
   * (the server refused), or a `TIMEOUT`/connection error.
   */
  request<M extends SignalingMethod>(method: M, data: SignalingRequests[M]['request']): Promise<SignalingRequests[M]['response']> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#queue = this.#queue.filter((q) => q !== item);
        for (const [id, pending] of this.#pending) if (pending === item) this.#pending.delete(id);
        reject(new SignalingError('TIMEOUT', `${method} got no response within ${this.#options.timeoutMs} ms`, method));
      }, this.#options.timeoutMs);
      const item: Queued = { method, data, resolve: resolve as (d: unknown) => void, reject, timer };
      if (this.connected) this.#send(item);
      else if (this.#holding) this.#queue.push(item);
      else {
        clearTimeout(timer);
        reject(this.#notConnected(method));
      }
    });
  }

  /**
   * The error of a request made with no socket: the last socket's close error when the server closed
   * it for good (so a join still sending its requests when the doctor removed the participant fails
   * as removed, not as a network error), else a network error.
   */
  #notConnected(method: string): Error {
    return this.#closedWith ?? ConnectionError.network(`cannot send ${method}: not connected`);
  }

  #send(item: Queued): void {
    const id = this.#nextId++;
    this.#pending.set(id, item);
    this.#socket?.send(JSON.stringify({ type: 'request', id, method: item.method, data: item.data }));
  }

  /** Closes the socket without emitting `close`, and fails everything waiting. */
  close(): void {
    this.#dropSocket();
    this.#holding = false;
    this.release(ConnectionError.closed(1000, 'closed by the client'));
  }

  #dropSocket(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket) return;
    socket.onclose = null;
    socket.onmessage = null;
    socket.close(1000, 'bye');
    this.#failPending(ConnectionError.closed(1000, 'closed by the client'));
  }

  #parse(data: unknown): ServerMessage | undefined {
    if (typeof data !== 'string') return undefined;
    try {
      return JSON.parse(data) as ServerMessage;
    } catch {
      return undefined;
    }
  }

  #dispatch(message: ServerMessage): void {
    if (message.type === 'notification') {
      this.emit('notification', message);
      return;
    }
    if (message.id === null) return;
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.ok) pending.resolve(message.data);
    else pending.reject(new SignalingError(message.error.code, message.error.message, pending.method));
  }

  #failPending(error: Error): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }
}

const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([CloseCode.Unauthorized, CloseCode.Refused, CloseCode.Removed]);

function closeError(code: number, reason: string): ConnectionError {
  if (code === CloseCode.Unauthorized) return ConnectionError.unauthorized(reason);
  if (code === CloseCode.Refused) return ConnectionError.refused(reason);
  if (code === CloseCode.Removed) return ConnectionError.removed(reason);
  return ConnectionError.closed(code, reason);
}

/**
 * One handler per server notification: a notification added to the protocol fails to compile
 * until its handler is written.
 */
export type NotificationHandlers = { [M in ServerNotificationMethod]: (data: ServerNotifications[M]) => void };

/** Calls the handler of a notification's method (a method unknown to this SDK version is ignored). */
export function dispatchNotification(handlers: NotificationHandlers, message: NotificationMessage): void {
  const handler = handlers[message.method] as ((data: unknown) => void) | undefined;
  handler?.(message.data);
}

/** Narrows a notification to one method. */
export function isNotification<N extends ServerNotificationMethod>(message: NotificationMessage, method: N): message is NotificationMessage<N> {
  return message.method === method;
}
