import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { EventsCloseCode, type DeliveredAppEvent, type EventsServerFrame } from '@telemed/sdk';
import { verifyAccessToken } from '../auth/access-token.js';
import type { SessionGuard } from '../auth/session-guard.js';
import { ApiError } from '../http/errors.js';
import { requestIdFrom } from '../http/request-id.js';
import type { AuthUser } from '../http/route.js';
import { requestContext, type Logger } from '../logger.js';
import type { EventsCloseReason, Metrics } from '../metrics/metrics.js';
import type { PresenceService } from '../presence/presence.service.js';
import { writeRawError } from '@telemed/server-kit';
import { errorCodeFor } from '../http/errors.js';
import type { BusMessage } from './event-bus.js';
import type { EventService } from './event.service.js';

export interface EventsGatewayOptions {
  accessTokenSecret: string;
  /** Refuses tokens of ended sessions; a session that ends closes its sockets (4003). */
  sessions: SessionGuard;
  events: EventService;
  presence: PresenceService;
  metrics: Metrics;
  logger: Logger;
  /** Most events replayed on reconnect; older ones are reported as `truncated`. */
  catchUpLimit?: number;
  /** Heartbeat period, ms: a socket that answered nothing since the previous ping is dropped. */
  heartbeatMs?: number;
}

/**
 * How long an event may take from its commit to its live delivery (the outbox's after-commit
 * publish, Redis), for a user none of whose events this instance has seen on the bus yet.
 */
const PUBLISH_LATENCY_MS = 10_000;
/** Users whose last event seen on the bus is remembered (the least recently updated are forgotten). */
const WATERMARK_USERS = 100_000;

/** Close codes of a client that said goodbye (normal, going away, no status given). */
const CLEAN_CLOSE_CODES = new Set([1000, 1001, 1005]);

interface Client {
  socket: WebSocket;
  user: AuthUser;
  sessionId: string;
  /** Highest event id sent; live events at or below it were already replayed. */
  cursor: number;
  /** Live events that arrive while a catch-up from the database runs. */
  pending: BusMessage[] | undefined;
  /** Anything heard from the client (a pong, a frame) since the last ping. */
  alive: boolean;
  /** Set when this side closes the socket, for the closed-by-reason metric. */
  closeReason: EventsCloseReason | undefined;
}

/**
 * `WS /events?access_token=…&after=<cursor>`: replays the user's events after the cursor, then
 * pushes live ones from the bus. Browsers cannot set headers on a WebSocket, so the access token
 * travels in the query string (request logs carry the path only).
 */
export class EventsGateway {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  readonly #clients = new Map<string, Set<Client>>();
  /** Per user, the highest event id this instance has seen on the bus. */
  readonly #seenOnBus = new Map<string, number>();
  readonly #options: EventsGatewayOptions;
  readonly #heartbeatMs: number;
  readonly #heartbeat: NodeJS.Timeout;
  #closed = false;

  constructor(options: EventsGatewayOptions) {
    this.#options = options;
    options.events.bus.subscribe((message) => {
      this.#noteSeen(message);
      for (const client of this.#clients.get(message.userId) ?? []) this.#deliver(client, message);
    });
    options.sessions.onRevoked(({ userId, sessionId }) => {
      for (const client of this.#clients.get(userId) ?? []) {
        if (sessionId === undefined || client.sessionId === sessionId) this.#close(client, 'session_ended', EventsCloseCode.SessionEnded, 'session ended');
      }
    });
    // A handshake ws refuses (no key, wrong version, not GET): answered in the API's error shape.
    this.#wss.on('wsClientError', (error: Error, socket: Duplex) => {
      options.logger.info({ reason: error.message }, 'events handshake refused');
      const wrongMethod = /method/i.test(error.message);
      const status = wrongMethod ? 405 : 400;
      writeRawError(socket, {
        status,
        code: errorCodeFor(status),
        message: `WebSocket handshake refused: ${error.message}`,
        headers: wrongMethod ? { allow: 'GET' } : {},
      });
    });
    this.#heartbeatMs = options.heartbeatMs ?? 10_000;
    this.#heartbeat = setInterval(() => this.#beat(), this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  /**
   * Pings every socket, both ways a client may answer: a WebSocket ping (answered by any client's
   * stack) and a `ping` frame (answered by the SDK with `pong`, and the SDK's proof the link lives).
   */
  #beat(): void {
    for (const set of this.#clients.values()) {
      for (const client of set) {
        if (!client.alive) {
          client.closeReason = 'heartbeat_timeout';
          this.#options.metrics.heartbeatTimeouts.inc();
          this.#options.logger.info({ userId: client.user.id }, 'events socket missed its heartbeat: dropped');
          client.socket.terminate();
          continue;
        }
        client.alive = false;
        if (client.socket.readyState !== client.socket.OPEN) continue;
        client.socket.ping();
        this.#frame(client, { kind: 'ping' });
      }
    }
  }

  /** `upgrade` on /events (the server routes upgrades by path; see guardHttpServer). */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    void this.#upgrade(req, socket, head, url);
  }

  async #upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    let user: AuthUser;
    let sessionId: string;
    let expiresAt: number;
    try {
      const token = verifyAccessToken(this.#options.accessTokenSecret, url.searchParams.get('access_token') ?? '');
      await this.#options.sessions.check(token);
      ({ user, sessionId, expiresAtMs: expiresAt } = token);
    } catch (error) {
      if (error instanceof ApiError) {
        writeRawError(socket, { status: 401, code: errorCodeFor(401), message: error.message });
      } else {
        this.#options.logger.warn({ err: error }, 'session check failed');
        writeRawError(socket, { status: 503, code: errorCodeFor(503), message: 'try again shortly' });
      }
      return;
    }
    if (socket.destroyed) return;
    // Within the bigint ids' range: a larger cursor (1e20) failed the catch-up query (close 1011).
    const after = Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Number.parseInt(url.searchParams.get('after') ?? '0', 10) || 0));
    const requestId = requestIdFrom(req.headers['x-request-id']);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      // Protocol errors (invalid UTF-8, oversized or unmasked frames, bad opcodes): ws closes the
      // socket with the matching code (1007, 1009, 1002); without a listener the error would end the process.
      ws.on('error', (err: Error & { code?: string }) =>
        this.#options.logger.info({ userId: user.id, code: err.code, reason: err.message }, 'events socket error; connection closed'),
      );
      requestContext.run({ requestId }, () => void this.#open(ws, user, sessionId, after, expiresAt));
    });
  }

  async #open(socket: WebSocket, user: AuthUser, sessionId: string, after: number, expiresAt: number): Promise<void> {
    const { events, presence, metrics, logger } = this.#options;
    const client: Client = { socket, user, sessionId, cursor: after, pending: [], alive: true, closeReason: undefined };
    // What a new socket starts after: the user's last event seen live before it was registered.
    const seenBefore = this.#seenOnBus.get(user.id);
    let set = this.#clients.get(user.id);
    if (!set) this.#clients.set(user.id, (set = new Set()));
    set.add(client);
    // Ended between the check at the upgrade and now: its revocation found no socket to close.
    this.#options.sessions
      .check({ user, sessionId, expiresAtMs: 0 })
      .catch(() => this.#close(client, 'session_ended', EventsCloseCode.SessionEnded, 'session ended'));
    metrics.websockets.inc();
    metrics.eventsOpened.inc();
    // The socket lives as long as its token: the client reconnects with a fresh one (and catches up).
    const expiry = setTimeout(
      () => this.#close(client, 'token_expired', EventsCloseCode.TokenExpired, 'access token expired'),
      Math.max(0, expiresAt - Date.now()),
    );
    const warn = (err: unknown): void => logger.warn({ err }, 'presence update failed');
    // Counted in before anything can count it out, so the two never cross.
    const counted = presence.connected(user.id).then(
      () => true,
      (err: unknown) => (warn(err), false),
    );
    // Clients send only heartbeat answers: whatever arrives proves the link alive.
    socket.on('message', () => (client.alive = true));
    socket.on('pong', () => (client.alive = true));
    socket.on('close', (code) => {
      clearTimeout(expiry);
      set.delete(client);
      if (set.size === 0 && this.#clients.get(user.id) === set) this.#clients.delete(user.id);
      metrics.websockets.dec();
      metrics.eventsClosed.inc({ reason: client.closeReason ?? (CLEAN_CLOSE_CODES.has(code) ? 'client_closed' : 'connection_lost') });
      if (!this.#closed) void counted.then((ok) => (ok ? presence.disconnected(user.id).catch(warn) : undefined));
    });
    try {
      let truncated = false;
      if (after > 0) truncated = await this.#catchUp(client);
      else {
        // From now on. Not from the user's last stored event: one committed just before the socket
        // was registered may still be on its way to the bus, and would then be taken as already sent
        // (a call's ring was lost so, and the callee never saw the call). From the last one seen
        // live before the registration; for a user with none seen yet, from the last one stored
        // longer ago than an event takes to go live.
        client.cursor = seenBefore ?? (await events.latestId(user.id, new Date(Date.now() - PUBLISH_LATENCY_MS)));
        this.#drainPending(client);
        // Stored events after the cursor that are not live yet are sent as they arrive; any that
        // went live before the registration are not this socket's (its client read the state since).
      }
      this.#frame(client, { kind: 'ready', cursor: client.cursor, truncated, heartbeatMs: this.#heartbeatMs });
      await counted;
    } catch (err) {
      logger.error({ err }, 'events catch-up failed');
      this.#close(client, 'server_error', 1011, 'catch-up failed');
    }
  }

  /**
   * Sends the stored events after the client's cursor (at most catchUpLimit; true if there were
   * more), then the live ones queued in `pending` meanwhile. `pending` must be set by the caller.
   */
  async #catchUp(client: Client): Promise<boolean> {
    const limit = this.#options.catchUpLimit ?? 1000;
    const missed = await this.#options.events.eventsAfter(client.user.id, client.cursor, limit + 1);
    for (const event of missed.slice(0, limit)) this.#send(client, event);
    this.#drainPending(client);
    return missed.length > limit;
  }

  #noteSeen({ userId, event }: BusMessage): void {
    const seen = this.#seenOnBus.get(userId) ?? 0;
    // Re-inserted so the map's order is by last update, the oldest first.
    this.#seenOnBus.delete(userId);
    this.#seenOnBus.set(userId, Math.max(seen, event.id));
    if (this.#seenOnBus.size > WATERMARK_USERS) this.#seenOnBus.delete(this.#seenOnBus.keys().next().value!);
  }

  #drainPending(client: Client): void {
    const pending = client.pending ?? [];
    client.pending = undefined;
    for (const message of pending) this.#deliver(client, message);
  }

  /**
   * A live event whose predecessor this socket has not had: published later than it by another
   * instance, or lost by the bus. Its stored predecessors are sent first, in order; otherwise the
   * client's cursor would pass them and a reconnect would skip them.
   */
  async #fillGap(client: Client, message: BusMessage): Promise<void> {
    client.pending = [message];
    this.#options.metrics.eventsGapsFilled.inc();
    try {
      while (await this.#catchUp(client)) client.pending = [];
    } catch (err) {
      this.#options.logger.error({ err }, 'events gap catch-up failed');
      this.#close(client, 'server_error', 1011, 'catch-up failed');
    }
  }

  #close(client: Client, reason: EventsCloseReason, code: number, text: string): void {
    client.closeReason ??= reason;
    client.socket.close(code, text);
  }

  #deliver(client: Client, message: BusMessage): void {
    const { event, prev } = message;
    if (client.pending) client.pending.push(message);
    else if (event.id <= client.cursor) return;
    else if (prev !== undefined && prev > client.cursor) void this.#fillGap(client, message);
    else this.#send(client, event);
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
    clearInterval(this.#heartbeat);
    const clients = [...this.#clients.values()].flatMap((set) => [...set]);
    this.#clients.clear();
    for (const client of clients) {
      client.closeReason ??= 'shutdown';
      client.socket.terminate();
    }
    this.#wss.close();
    return clients;
  }
}
