import WebSocket from 'ws';
import type { DeliveredAppEvent, EventsServerFrame } from '@telemed/sdk';
import { waitFor } from './test-app.js';

/** A /events connection that records frames. */
export class EventsClient {
  readonly frames: EventsServerFrame[] = [];
  readonly socket: WebSocket;
  /** Settles when the server or the client closes the socket. */
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(baseUrl: string, token: string, after?: number) {
    const url = new URL('/events', baseUrl.replace(/^http/, 'ws'));
    url.searchParams.set('access_token', token);
    if (after !== undefined) url.searchParams.set('after', String(after));
    this.socket = new WebSocket(url);
    this.socket.on('message', (data) => this.frames.push(JSON.parse(data.toString()) as EventsServerFrame));
    this.closed = new Promise((resolve) => this.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  get events(): DeliveredAppEvent[] {
    return this.frames.flatMap((f) => (f.kind === 'event' ? [f.event] : []));
  }

  ready(): Promise<Extract<EventsServerFrame, { kind: 'ready' }>> {
    return waitFor(() => this.frames.find((f): f is Extract<EventsServerFrame, { kind: 'ready' }> => f.kind === 'ready'), 5000, 'ready');
  }

  waitForEvent<T extends DeliveredAppEvent['type']>(type: T, match: (e: Extract<DeliveredAppEvent, { type: T }>) => boolean = () => true): Promise<Extract<DeliveredAppEvent, { type: T }>> {
    return waitFor(() => this.events.find((e): e is Extract<DeliveredAppEvent, { type: T }> => e.type === type && match(e as Extract<DeliveredAppEvent, { type: T }>)), 5000, `event ${type}`);
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

