import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, MAX_SIGNALING_MESSAGE_BYTES } from '@telemed/sdk/protocol';
import { MediaServerError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RoomManager } from '../RoomManager.js';
import { verifyRoomToken } from '../token.js';
import type { WorkerPool } from '../WorkerPool.js';
import { SignalingSession } from './SignalingSession.js';

export interface SignalingServerOptions {
  host: string;
  port: number;
  roomTokenSecret: string;
  serviceSecret?: string;
  rooms: RoomManager;
  pool: WorkerPool;
  logger: Logger;
  /** Dead-peer detection: ping period; a peer that misses one pong is dropped. */
  heartbeatMs?: number;
}

type AliveSocket = WebSocket & { isAlive?: boolean };

/**
 * HTTP + WebSocket front of the media server:
 *   WS  /rtc?token=JWT        room signaling
 *   GET /health               liveness with worker and room counts
 *   GET /rooms/:id/stats      per-producer/consumer stats (service secret as Bearer)
 */
export class SignalingServer {
  readonly #options: SignalingServerOptions;
  readonly #http: http.Server;
  readonly #wss: WebSocketServer;
  readonly #sessions = new Set<SignalingSession>();
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(options: SignalingServerOptions) {
    this.#options = options;
    this.#http = http.createServer((req, res) => void this.#onHttp(req, res));
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: MAX_SIGNALING_MESSAGE_BYTES });
    this.#http.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/rtc') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => void this.#onConnection(ws, url.searchParams.get('token')));
    });
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

  async #onConnection(ws: AliveSocket, token: string | null): Promise<void> {
    const { logger, rooms, roomTokenSecret } = this.#options;
    ws.isAlive = true;
    ws.on('pong', () => (ws.isAlive = true));
    ws.on('error', (error) => logger.warn({ err: error }, 'signaling socket error'));
    let claims;
    try {
      claims = verifyRoomToken(token, roomTokenSecret);
    } catch (error) {
      const code = error instanceof MediaServerError ? error.code : 'UNAUTHORIZED';
      logger.info({ code }, 'signaling connection refused');
      ws.close(CloseCode.Unauthorized, code);
      return;
    }
    let session: SignalingSession;
    try {
      const { room, worker } = await rooms.getOrCreate(claims.room);
      session = new SignalingSession({ socket: ws, claims, room, worker, logger });
      const previous = room.peerByIdentity(claims.sub);
      if (previous) {
        for (const s of this.#sessions) if (s.peer === previous) s.close(CloseCode.Replaced, 'REPLACED');
        room.removePeer(previous, 'replaced');
      }
      room.addPeer(session.peer);
      rooms.touch(room.id);
      ws.on('close', () => {
        this.#sessions.delete(session);
        room.removePeer(session.peer, 'disconnected');
      });
      room.once('close', () => session.close(CloseCode.RoomClosed, 'ROOM_CLOSED'));
    } catch (error) {
      const code = error instanceof MediaServerError ? error.code : 'INTERNAL';
      logger.warn({ err: error, roomId: claims.room }, 'could not admit participant');
      ws.close(CloseCode.Refused, code);
      return;
    }
    if (ws.readyState !== ws.OPEN) {
      session.peer.close();
      return;
    }
    this.#sessions.add(session);
    session.start();
  }

  #isService(req: http.IncomingMessage): boolean {
    const secret = this.#options.serviceSecret;
    const header = req.headers.authorization ?? '';
    if (!secret || !header.startsWith('Bearer ')) return false;
    const given = Buffer.from(header.slice('Bearer '.length));
    const expected = Buffer.from(secret);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  async #onHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') return json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'only GET is served here' } });
    if (url.pathname === '/health') {
      const alive = this.#options.pool.workers.filter((w) => !w.worker.closed).length;
      return json(alive > 0 ? 200 : 503, {
        status: alive > 0 ? 'ok' : 'degraded',
        workers: alive,
        rooms: this.#options.rooms.rooms.size,
        participants: this.#sessions.size,
      });
    }
    const statsMatch = /^\/rooms\/([^/]+)\/stats$/.exec(url.pathname);
    if (statsMatch || url.pathname === '/rooms') {
      if (!this.#isService(req)) return json(401, { error: { code: 'UNAUTHORIZED', message: 'service credentials required' } });
      if (!statsMatch) {
        return json(200, { rooms: [...this.#options.rooms.rooms.values()].map(({ room, worker }) => ({ roomId: room.id, workerIndex: worker.index, participants: room.joinedPeers().length })) });
      }
      const room = this.#options.rooms.get(decodeURIComponent(statsMatch[1] ?? ''));
      if (!room) return json(404, { error: { code: 'NOT_FOUND', message: 'no such room' } });
      return json(200, await room.getStats());
    }
    return json(404, { error: { code: 'NOT_FOUND', message: 'not found' } });
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    for (const session of this.#sessions) session.close(CloseCode.GoingAway, 'SHUTDOWN');
    this.#wss.close();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }
}
