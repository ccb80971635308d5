import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, MAX_SIGNALING_MESSAGE_BYTES, type RoomTokenClaims } from '@telemed/sdk/protocol';
import { MediaServerError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SignalingObserver } from '../metrics/MediaMetrics.js';
import type { Peer } from '../Peer.js';
import type { PeerLeftReason, Room, RoomCloseReason } from '../Room.js';
import type { RoomManager } from '../RoomManager.js';
import type { StatsSampler } from '../StatsSampler.js';
import { verifyRoomToken } from '../token.js';
import type { WorkerPool } from '../WorkerPool.js';
import { bearerMatches, guardHttpServer, writeRawError } from '@telemed/server-kit';
import { errorCodeFor, errorJson } from './http-errors.js';
import { ServiceApi, type MetricsEndpoint, type ServiceApiOptions } from './ServiceApi.js';
import { SignalingSession } from './SignalingSession.js';
import { TokenBans } from './TokenBans.js';

export interface SignalingServerOptions {
  /** The pipe links of a room spanning media nodes, for the service API. */
  roomLinks?: ServiceApiOptions['roomLinks'];
  host: string;
  port: number;
  roomTokenSecret: string;
  serviceSecret?: string;
  rooms: RoomManager;
  pool: WorkerPool;
  logger: Logger;
  sampler?: StatsSampler;
  /** Dead-peer detection: ping period; a peer that misses one pong is dropped. */
  heartbeatMs?: number;
  /** How long a session whose socket dropped waits for its client to resume, ms. */
  resumeGraceMs?: number;
  /** Told about requests, resumes and expiries (metrics). */
  observer?: SignalingObserver;
  /** `GET /metrics` in the Prometheus text format; absent: 404. */
  metrics?: MetricsEndpoint;
  recording?: ServiceApiOptions['recording'];
}

type AliveSocket = WebSocket & { isAlive?: boolean };

interface SessionEntry {
  room: Room;
  graceTimer?: NodeJS.Timeout;
  /** When the server saw the session's socket close (it waits for a resume since). */
  lostAt?: number;
}

const CLOSE_FOR_ROOM: Record<RoomCloseReason, [number, string]> = {
  empty: [CloseCode.RoomClosed, 'ROOM_CLOSED'],
  max_duration: [CloseCode.MaxDuration, 'MAX_DURATION'],
  worker_died: [CloseCode.Rejoin, 'REJOIN'],
  shutdown: [CloseCode.GoingAway, 'SHUTDOWN'],
};

/**
 * HTTP + WebSocket front of the media server:
 *   WS  /rtc?token=JWT[&resume=<participantId>&key=<resumeKey>]   room signaling
 *   HTTP service endpoints (see ServiceApi)
 */
export class SignalingServer {
  readonly #options: SignalingServerOptions;
  readonly #http: http.Server;
  readonly #wss: WebSocketServer;
  readonly #sessions = new Map<SignalingSession, SessionEntry>();
  readonly #watchedRooms = new WeakSet<Room>();
  /** Fault injection: `room/identity` → time until which its reconnects are refused. */
  readonly #blocked = new Map<string, number>();
  /** Identities whose room tokens issued until their revocation are refused (a disabled account). */
  readonly #revoked = new TokenBans();
  /** `room/identity` pairs removed from a room: the tokens issued until the removal are refused there. */
  readonly #removed = new TokenBans();
  readonly #service: ServiceApi;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(options: SignalingServerOptions) {
    this.#options = options;
    this.#service = new ServiceApi({
      isService: (req) => bearerMatches(req.headers.authorization, this.#options.serviceSecret),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.recording ? { recording: options.recording } : {}),
      ...(options.roomLinks ? { roomLinks: options.roomLinks } : {}),
      rooms: options.rooms,
      pool: options.pool,
      ...(options.sampler ? { sampler: options.sampler } : {}),
      sessionCount: () => this.#sessions.size,
      dropSignaling: (roomId, identity, blockMs) => this.#dropSignaling(roomId, identity, blockMs),
      revokeIdentity: (identity) => this.#revokeIdentity(identity),
      removeParticipant: (roomId, identity) => this.#removeFromRoom(roomId, identity),
    });
    this.#http = http.createServer((req, res) => {
      this.#service.handle(req, res).catch((error: unknown) => {
        options.logger.error({ err: error, method: req.method }, 'service request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(errorJson(500, 'internal error')));
        else res.destroy();
      });
    });
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: MAX_SIGNALING_MESSAGE_BYTES });
    // A handshake ws refuses (no key, wrong version, not GET) is answered in the error shape.
    this.#wss.on('wsClientError', (error: Error, socket: Duplex) => {
      options.logger.info({ reason: error.message }, 'signaling handshake refused');
      const wrongMethod = /method/i.test(error.message);
      const status = wrongMethod ? 405 : 400;
      writeRawError(socket, {
        status,
        code: errorCodeFor(status),
        message: `WebSocket handshake refused: ${error.message}`,
        headers: wrongMethod ? { allow: 'GET' } : {},
      });
    });
    guardHttpServer(this.#http, {
      logger: options.logger.child({ component: 'http' }),
      codeFor: errorCodeFor,
      upgrades: { '/rtc': (req, socket, head, url) => this.#onUpgrade(req, socket, head, url) },
    });
  }

  /** Signaling sessions open now (attached, or waiting for their client to resume). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.#options.port, this.#options.host, () => resolve());
    });
    const heartbeatMs = this.#options.heartbeatMs ?? 10_000;
    this.#heartbeat = setInterval(() => {
      for (const ws of this.#wss.clients as Set<AliveSocket>) {
        if (ws.isAlive === false) {
          ws.terminate();
          continue;
        }
        ws.isAlive = false;
        ws.ping();
      }
    }, heartbeatMs);
    this.#heartbeat.unref();
    const address = this.#http.address();
    return typeof address === 'object' && address ? address.port : this.#options.port;
  }

  #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const token = url.searchParams.get('token');
    if (this.#blocked.size > 0 && token) {
      // A blocked participant's network is "down": its upgrade fails like an unreachable server.
      try {
        const claims = verifyRoomToken(token, this.#options.roomTokenSecret);
        const until = this.#blocked.get(`${claims.room}/${claims.sub}`);
        if (until !== undefined && until > Date.now()) {
          writeRawError(socket, { status: 503, code: errorCodeFor(503), message: 'signaling is unreachable for this participant (fault injection)' });
          return;
        }
      } catch {
        // An invalid token is refused properly once the socket is open.
      }
    }
    const resume = url.searchParams.get('resume');
    const key = url.searchParams.get('key');
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#onConnection(ws, token, resume && key ? { participantId: resume, key } : undefined).catch((error: unknown) => {
        this.#options.logger.error({ err: error }, 'signaling connection failed');
        ws.close(1011, 'INTERNAL');
      });
    });
  }

  async #onConnection(ws: AliveSocket, token: string | null, resume: { participantId: string; key: string } | undefined): Promise<void> {
    const { logger, rooms, roomTokenSecret } = this.#options;
    ws.isAlive = true;
    ws.on('pong', () => (ws.isAlive = true));
    // Protocol errors (invalid UTF-8, oversized or unmasked frames, bad opcodes): ws closes the socket
    // with the matching code (1007, 1009, 1002); the listener keeps the error from ending the process.
    ws.on('error', (error: Error & { code?: string }) => logger.info({ code: error.code, reason: error.message }, 'signaling socket error; connection closed'));
    let claims: RoomTokenClaims;
    try {
      claims = verifyRoomToken(token, roomTokenSecret);
    } catch (error) {
      const code = error instanceof MediaServerError ? error.code : 'UNAUTHORIZED';
      logger.info({ code }, 'signaling connection refused');
      ws.close(CloseCode.Unauthorized, code);
      return;
    }
    if (this.#revoked.refuses(claims.sub, claims.iat)) {
      logger.info({ roomId: claims.room }, 'signaling connection refused: the identity was revoked');
      ws.close(CloseCode.Unauthorized, 'UNAUTHORIZED');
      return;
    }
    if (this.#removed.refuses(`${claims.room}/${claims.sub}`, claims.iat)) {
      logger.info({ roomId: claims.room }, 'signaling connection refused: the participant was removed from the room with this token');
      ws.close(CloseCode.Removed, 'REMOVED');
      return;
    }
    const startedAt = claims.roomStartedAt === undefined ? undefined : claims.roomStartedAt * 1000;
    if (startedAt !== undefined && rooms.isOver(claims.room, startedAt)) {
      logger.info({ roomId: claims.room }, 'signaling connection refused: the call is past its maximum duration');
      ws.close(CloseCode.MaxDuration, 'MAX_DURATION');
      return;
    }
    if (resume && this.#resume(ws, claims, resume)) return;
    let session: SignalingSession;
    let room: Room;
    try {
      const entry = await rooms.getOrCreate(claims.room, startedAt === undefined ? {} : { startedAt });
      room = entry.room;
      session = new SignalingSession({ socket: ws, claims, room, worker: entry.worker, logger, observer: this.#options.observer });
      const previous = room.peerByIdentity(claims.sub);
      if (previous) {
        const previousSession = this.#sessionOf(previous.id);
        previousSession?.close(CloseCode.Replaced, 'REPLACED');
        room.removePeer(previous, 'replaced');
      }
      await room.addPeer(session.peer);
      rooms.touch(room.id);
    } catch (error) {
      const code = error instanceof MediaServerError ? error.code : 'INTERNAL';
      logger.warn({ err: error, roomId: claims.room }, 'could not admit participant');
      ws.close(CloseCode.Refused, code);
      return;
    }
    if (ws.readyState !== ws.OPEN) {
      room.removePeer(session.peer, 'disconnected');
      return;
    }
    this.#watch(room);
    this.#sessions.set(session, { room });
    session.onOverflow = () => this.#end(session, 'disconnected');
    this.#watchSocket(session, ws);
    session.start();
  }

  /** Re-attaches a resuming client's socket to its session; false when the session is gone. */
  #resume(ws: WebSocket, claims: RoomTokenClaims, resume: { participantId: string; key: string }): boolean {
    const session = this.#sessionOf(resume.participantId);
    const entry = session && this.#sessions.get(session);
    if (!session || !entry || entry.room.id !== claims.room || session.peer.identity !== claims.sub || !session.peer.joined) return false;
    const given = Buffer.from(resume.key);
    const expected = Buffer.from(session.peer.resumeKey);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    clearTimeout(entry.graceTimer);
    delete entry.graceTimer;
    const offlineMs = entry.lostAt === undefined ? 0 : Date.now() - entry.lostAt;
    delete entry.lostAt;
    session.attach(ws);
    this.#options.observer?.sessionResumed();
    this.#watchSocket(session, ws);
    entry.room.peerReconnected(session.peer, { how: 'signaling', offlineMs, restarts: 0 });
    return true;
  }

  #watchSocket(session: SignalingSession, ws: WebSocket): void {
    ws.on('close', () => {
      const entry = this.#sessions.get(session);
      if (!entry || session.socket !== ws) return;
      session.detach();
      const grace = this.#options.resumeGraceMs ?? 20_000;
      if (!session.peer.joined || grace === 0) {
        this.#end(session, 'disconnected');
        return;
      }
      this.#options.logger.info({ peerId: session.peer.id, graceMs: grace }, 'signaling socket lost; waiting for the client to resume');
      entry.lostAt = Date.now();
      entry.graceTimer = setTimeout(() => {
        this.#options.observer?.sessionExpired();
        this.#end(session, 'disconnected');
      }, grace);
      entry.graceTimer.unref();
    });
  }

  #end(session: SignalingSession, reason: 'disconnected'): void {
    const entry = this.#sessions.get(session);
    if (!entry) return;
    this.#forget(session);
    session.close(CloseCode.GoingAway, 'SESSION_ENDED');
    entry.room.removePeer(session.peer, reason);
  }

  /** One pair of listeners per room, whatever its number of sessions: they find the sessions concerned. */
  #watch(room: Room): void {
    if (this.#watchedRooms.has(room)) return;
    this.#watchedRooms.add(room);
    room.on('close', (reason: RoomCloseReason) => {
      const [code, text] = CLOSE_FOR_ROOM[reason];
      for (const [session, entry] of [...this.#sessions]) {
        if (entry.room !== room) continue;
        session.close(code, text);
        this.#forget(session);
      }
    });
    room.on('peerLeft', (peer: Peer, reason: PeerLeftReason) => {
      const session = this.#sessionOf(peer.id);
      if (!session || session.peer !== peer) return;
      if (reason === 'removed') {
        // Removed by a room admin or the service API: the token it joined with does not let it back.
        this.#removed.ban(`${room.id}/${peer.identity}`);
        session.close(CloseCode.Removed, 'REMOVED');
      }
      // After the leave request's response has gone out (it is sent once the handler returns).
      else if (reason === 'left') setImmediate(() => session.close(1000, 'LEFT'));
      this.#forget(session);
    });
  }

  #forget(session: SignalingSession): void {
    const entry = this.#sessions.get(session);
    if (!entry) return;
    clearTimeout(entry.graceTimer);
    this.#sessions.delete(session);
  }

  #sessionOf(participantId: string): SignalingSession | undefined {
    for (const session of this.#sessions.keys()) if (session.peer.id === participantId) return session;
    return undefined;
  }

  /**
   * Ends every session of an identity in every room (they are told REMOVED) and refuses the room
   * tokens issued to it until now, so none of them joins again. Answers how many sessions closed.
   */
  #revokeIdentity(identity: string): number {
    this.#revoked.ban(identity);
    return this.#removeSessions((session) => session.peer.identity === identity, 'removing a participant whose identity was revoked');
  }

  /**
   * Ends an identity's sessions in one room (told REMOVED) and refuses the tokens issued to it for
   * that room until now; a token minted later (from the next second on) may join again.
   */
  #removeFromRoom(roomId: string, identity: string): number {
    this.#removed.ban(`${roomId}/${identity}`);
    return this.#removeSessions((session, room) => room.id === roomId && session.peer.identity === identity, 'removing a participant (service API)');
  }

  #removeSessions(match: (session: SignalingSession, room: Room) => boolean, why: string): number {
    let closed = 0;
    for (const [session, { room }] of [...this.#sessions]) {
      if (!match(session, room)) continue;
      this.#options.logger.info({ roomId: room.id, peerId: session.peer.id }, why);
      room.removePeer(session.peer, 'removed');
      // A session waiting for its client to resume has no peerleft listener call to close it.
      this.#forget(session);
      session.close(CloseCode.Removed, 'REMOVED');
      closed++;
    }
    return closed;
  }

  #dropSignaling(roomId: string, identity: string, blockMs: number): boolean {
    if (blockMs > 0) {
      const key = `${roomId}/${identity}`;
      const until = Date.now() + blockMs;
      this.#blocked.set(key, until);
      setTimeout(() => {
        if (this.#blocked.get(key) === until) this.#blocked.delete(key);
      }, blockMs).unref();
    }
    for (const [session, { room }] of this.#sessions) {
      if (room.id === roomId && session.peer.identity === identity && session.socket) {
        this.#options.logger.info({ roomId, identity, blockMs }, 'dropping a signaling socket (fault injection)');
        session.terminateSocket();
        return true;
      }
    }
    return false;
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    for (const session of [...this.#sessions.keys()]) {
      this.#forget(session);
      session.close(CloseCode.GoingAway, 'SHUTDOWN');
    }
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }
}
