import { backoffDelay } from '../backoff.js';
import { TypedEmitter } from '../TypedEmitter.js';
import type { DeliveredAppEvent, EventsServerFrame } from './events.js';

export interface EventsConnectionOptions {
  /** `ws(s)://host/events` */
  url: string;
  /** The current access token (asked again on every reconnect: it may have been refreshed). */
  accessToken: () => Promise<string>;
  /** The WebSocket class (the browser's by default). */
  WebSocket: typeof WebSocket;
  initialDelayMs: number;
  maxDelayMs: number;
}

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
    const socket = new this.#options.WebSocket(url.toString());
    this.#socket = socket;
    socket.onmessage = (message: MessageEvent) => {
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
      } else if (frame.kind === 'ready') {
        this.#attempt = 0;
        this.#cursor = Math.max(this.#cursor ?? 0, frame.cursor);
        this.emit('connected', { cursor: this.#cursor, truncated: frame.truncated });
      }
    };
    socket.onerror = () => {}; // a close event follows; it decides about reconnecting
    socket.onclose = (event: CloseEvent) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      const willReconnect = !this.#closed;
      this.emit('disconnected', { code: event.code, willReconnect });
      if (willReconnect) this.#scheduleReconnect();
    };
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
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close(1000);
    this.removeAllListeners();
  }
}
