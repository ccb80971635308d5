import WebSocket from 'ws';
import type { DeliveredAppEvent, EventsServerFrame } from '@telemed/sdk';
import { waitFor } from '@telemed/test-kit';

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
    return waitFor('ready', () => this.frames.find((f): f is Extract<EventsServerFrame, { kind: 'ready' }> => f.kind === 'ready'), { timeoutMs: 5000 });
  }

  waitForEvent<T extends DeliveredAppEvent['type']>(
    type: T,
    match: (e: Extract<DeliveredAppEvent, { type: T }>) => boolean = () => true,
  ): Promise<Extract<DeliveredAppEvent, { type: T }>> {
    return waitFor(
      `event ${type}`,
      () => this.events.find((e): e is Extract<DeliveredAppEvent, { type: T }> => e.type === type && match(e as Extract<DeliveredAppEvent, { type: T }>)),
      { timeoutMs: 5000 },
    );
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}
