import { backoffDelay } from '../signaling/backoff.js';
import { TypedEmitter } from '../TypedEmitter.js';
import { EventsCloseCode, type DeliveredAppEvent, type EventsClientFrame, type EventsServerFrame } from './events.js';

export interface EventsConnectionOptions {
  /** `ws(s)://host/events` */
  url: string;
  /** The current access token (asked again on every reconnect: it may have been refreshed). */
  accessToken: () => Promise<string>;
  /** The WebSocket class (the browser's by default). */
  WebSocket: typeof WebSocket;
  initialDelayMs: number;
  maxDelayMs: number;
  /**
   * Silence after which the link counts as dead and is replaced: by default 2.5 server heartbeat
   * periods (the server announces its period in `ready`; 10 s until then).
   */
  heartbeatTimeoutMs?: number | undefined;
}

/** The server's heartbeat period assumed until its `ready` frame says otherwise. */
const DEFAULT_HEARTBEAT_MS = 10_000;

export type EventsConnectionEvents = {
  event: [DeliveredAppEvent];
  connected: [{ cursor: number; truncated: boolean }];
  disconnected: [{ code: number; willReconnect: boolean }];
};

/**
 * The `/events` socket: reconnects with backoff and resumes after the last event it saw, so a
 * dropped connection loses nothing (the server replays by cursor).
 */
export class EventsConnection extends TypedEmitter<EventsConnectionEvents> {
  readonly #options: EventsConnectionOptions;
  #socket: WebSocket | undefined;
  #cursor: number | undefined;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #heartbeatMs = DEFAULT_HEARTBEAT_MS;
  #closed = false;

  constructor(options: EventsConnectionOptions, cursor?: number) {
    super();
    this.#options = options;
    this.#cursor = cursor;
  }

  /** The id of the newest event received: pass it to a new connection to resume. */
  get cursor(): number | undefined {
    return this.#cursor;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async open(): Promise<void> {
    if (this.#closed) return;
    const url = new URL(this.#options.url);
    url.searchParams.set('access_token', await this.#options.accessToken());
    if (this.#cursor !== undefined) url.searchParams.set('after', String(this.#cursor));
    if (this.#closed) return;
    const socket = new this.#options.WebSocket(url.toString());
    this.#socket = socket;
    this.#watch(socket);
    socket.onmessage = (message: MessageEvent) => {
      if (this.#socket !== socket) return;
      this.#watch(socket);
      let frame: EventsServerFrame;
      try {
        frame = JSON.parse(String(message.data)) as EventsServerFrame;
      } catch {
        return;
      }
      if (frame.kind === 'event') {
        if (this.#cursor !== undefined && frame.event.id <= this.#cursor) return;
        this.#cursor = frame.event.id;
        this.emit('event', frame.event);
      } else if (frame.kind === 'ping') {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ kind: 'pong' } satisfies EventsClientFrame));
      } else if (frame.kind === 'ready') {
        this.#attempt = 0;
        if (typeof frame.heartbeatMs === 'number' && frame.heartbeatMs > 0) this.#heartbeatMs = frame.heartbeatMs;
        this.#watch(socket);
        this.#cursor = Math.max(this.#cursor ?? 0, frame.cursor);
        this.emit('connected', { cursor: this.#cursor, truncated: frame.truncated });
      }
    };
    socket.onerror = () => {}; // a close event follows; it decides about reconnecting
    socket.onclose = (event: CloseEvent) => this.#lost(socket, event.code);
  }

  /** (Re)arms the dead-link timer: any frame from the server proves the link alive. */
  #watch(socket: WebSocket): void {
    clearTimeout(this.#watchdog);
    const timeoutMs = this.#options.heartbeatTimeoutMs ?? this.#heartbeatMs * 2.5;
    this.#watchdog = setTimeout(() => {
      // A dead link may take minutes to report its close: give up on it now.
      socket.onmessage = null;
      socket.onclose = null;
      socket.close(EventsCloseCode.HeartbeatTimeout, 'heartbeat timeout');
      this.#lost(socket, EventsCloseCode.HeartbeatTimeout);
    }, timeoutMs);
  }

  #lost(socket: WebSocket, code: number): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    clearTimeout(this.#watchdog);
    const willReconnect = !this.#closed;
    this.emit('disconnected', { code, willReconnect });
    if (willReconnect) this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const { initialDelayMs, maxDelayMs } = this.#options;
    const delay = backoffDelay(++this.#attempt, initialDelayMs, maxDelayMs);
    this.#timer = setTimeout(() => void this.open().catch(() => this.#scheduleReconnect()), delay);
  }

  /** Closes the socket and stops reconnecting (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#watchdog);
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close(1000);
    this.removeAllListeners();
  }
}
