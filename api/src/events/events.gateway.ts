import type http from 'node:http';
import type { Duplex } from 'node:stream';
import jwt from 'jsonwebtoken';
import { WebSocketServer, type WebSocket } from 'ws';
import type { DeliveredAppEvent, EventsServerFrame } from '@telemed/sdk';
import { verifyAccessToken } from '../auth/access-token.js';
import type { AuthUser } from '../http/route.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PresenceService } from '../presence/presence.service.js';
import type { EventService } from './event.service.js';

export interface EventsGatewayOptions {
  accessTokenSecret: string;
  events: EventService;
  presence: PresenceService;
  metrics: Metrics;
  logger: Logger;
  /** Most events replayed on reconnect; older ones are reported as `truncated`. */
  catchUpLimit?: number;
}

interface Client {
  socket: WebSocket;
  user: AuthUser;
  /** Highest event id sent; live events at or below it were already replayed. */
  cursor: number;
  /** Live events that arrive while the catch-up replay runs. */
  pending: DeliveredAppEvent[] | undefined;
}

/**
 * `WS /events?access_token=…&after=<cursor>`: replays the user's events after the cursor, then
 * pushes live ones from the bus. Browsers cannot set headers on a WebSocket, so the access token
 * travels in the query string (request logs carry the path only).
 */
export class EventsGateway {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  readonly #clients = new Map<string, Set<Client>>();
  readonly #options: EventsGatewayOptions;
  #closed = false;

  constructor(options: EventsGatewayOptions) {
    this.#options = options;
    options.events.bus.subscribe(({ userId, event }) => {
      for (const client of this.#clients.get(userId) ?? []) this.#deliver(client, event);
    });
  }

  attach(server: http.Server): void {
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/events') return;
      this.#upgrade(req, socket, head, url);
    });
  }

  #upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    let user: AuthUser;
    let expiresAt: number;
    try {
      const token = url.searchParams.get('access_token') ?? '';
      user = verifyAccessToken(this.#options.accessTokenSecret, token);
      expiresAt = ((jwt.decode(token) as jwt.JwtPayload | null)?.exp ?? 0) * 1000;
    } catch {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":{"code":"UNAUTHORIZED","message":"the access token is not valid"}}');
      return;
    }
    // Within the bigint ids' range: a larger cursor (1e20) failed the catch-up query (close 1011).
    const after = Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Number.parseInt(url.searchParams.get('after') ?? '0', 10) || 0));
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      // The socket lives as long as its token: the client reconnects with a fresh one (and catches up).
      const expiry = setTimeout(() => ws.close(4001, 'access token expired'), Math.max(0, expiresAt - Date.now()));
      ws.once('close', () => clearTimeout(expiry));
      void this.#open(ws, user, after);
    });
  }

  async #open(socket: WebSocket, user: AuthUser, after: number): Promise<void> {
    const { events, presence, metrics, logger } = this.#options;
    const client: Client = { socket, user, cursor: after, pending: [] };
    let set = this.#clients.get(user.id);
    if (!set) this.#clients.set(user.id, (set = new Set()));
    set.add(client);
    metrics.websockets.inc();
    const warn = (err: unknown): void => logger.warn({ err }, 'presence update failed');
    // Counted in before anything can count it out, so the two never cross.
    const counted = presence.connected(user.id).then(() => true, (err: unknown) => (warn(err), false));
    socket.on('message', () => {}); // clients only listen; pings are answered by ws itself
    socket.on('close', () => {
      set.delete(client);
      if (set.size === 0 && this.#clients.get(user.id) === set) this.#clients.delete(user.id);
      metrics.websockets.dec();
      if (!this.#closed) void counted.then((ok) => (ok ? presence.disconnected(user.id).catch(warn) : undefined));
    });
    try {
      const limit = this.#options.catchUpLimit ?? 1000;
      const missed = after > 0 ? await events.eventsAfter(user.id, after, limit + 1) : [];
      const truncated = missed.length > limit;
      for (const event of missed.slice(0, limit)) this.#send(client, event);
      const pending = client.pending ?? [];
      client.pending = undefined;
      for (const event of pending) this.#deliver(client, event);
      this.#frame(client, { kind: 'ready', cursor: client.cursor, truncated });
      await counted;
    } catch (err) {
      logger.error({ err }, 'events catch-up failed');
      socket.close(1011, 'catch-up failed');
    }
  }

  #deliver(client: Client, event: DeliveredAppEvent): void {
    if (client.pending) client.pending.push(event);
    else if (event.id > client.cursor) this.#send(client, event);
  }

  #send(client: Client, event: DeliveredAppEvent): void {
    client.cursor = Math.max(client.cursor, event.id);
    this.#frame(client, { kind: 'event', event });
  }

  #frame(client: Client, frame: EventsServerFrame): void {
    if (client.socket.readyState === client.socket.OPEN) client.socket.send(JSON.stringify(frame));
  }

  /** Closes every socket and takes its connection out of presence (idempotent). */
  async close(): Promise<void> {
    const clients = this.#drop();
    // Other API instances share the counts: leave them as if these users had disconnected.
    for (const client of clients) {
      await this.#options.presence.disconnected(client.user.id).catch((err: unknown) => this.#options.logger.warn({ err }, 'presence update failed'));
    }
  }

  /** Drops every socket without touching presence, as a crash would (App.abort()). */
  abort(): void {
    this.#drop();
  }

  #drop(): Client[] {
    if (this.#closed) return [];
    this.#closed = true;
    const clients = [...this.#clients.values()].flatMap((set) => [...set]);
    this.#clients.clear();
    for (const client of clients) client.socket.terminate();
    this.#wss.close();
    return clients;
  }
}
