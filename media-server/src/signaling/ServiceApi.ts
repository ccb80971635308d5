import type http from 'node:http';
import { z } from 'zod';
import { TRACK_SOURCES, type ServiceParticipantsResponse, type ServiceRemoveResponse } from '@telemed/sdk/protocol';
import { bearerMatches, isLoopbackAddress } from '@telemed/server-kit';
import { readBody } from '../http-body.js';
import type { RoomLinkStats } from '../cluster/RoomLink.js';
import type { RoomManager } from '../RoomManager.js';
import { errorJson } from './http-errors.js';
import { muteParticipantTrack, serviceParticipantInfo } from './participant-commands.js';
import type { StatsSampler } from '../StatsSampler.js';
import type { WorkerPool } from '../WorkerPool.js';

export interface ServiceApiOptions {
  /** True when the request carries the service secret as a Bearer token. */
  isService: (req: http.IncomingMessage) => boolean;
  rooms: RoomManager;
  pool: WorkerPool;
  sampler?: StatsSampler;
  sessionCount: () => number;
  /** Fault injection: drops a participant's signaling socket and refuses its reconnects for blockMs. */
  dropSignaling: (roomId: string, identity: string, blockMs: number) => boolean;
  /** Ends every session of an identity and refuses the room tokens issued to it until now; answers how many closed. */
  revokeIdentity: (identity: string) => number;
  /**
   * Ends an identity's sessions in one room (they are told REMOVED) and refuses the room tokens
   * issued to it for that room until now; answers how many closed (0: it was not in the room).
   */
  removeParticipant: (roomId: string, identity: string) => number;
  metrics?: MetricsEndpoint;
  /** Call recording commands (PUT/DELETE /rooms/:id/recording, signed by the API); absent when recording is off. */
  recording?: { handle(req: http.IncomingMessage, res: http.ServerResponse, roomId: string): Promise<void> };
  /** The pipe links of a room spanning media nodes (GET /rooms/:id/links); absent without REDIS_URL. */
  roomLinks?: (roomId: string) => Promise<RoomLinkStats[]>;
}

/** What `GET /metrics` serves, and who may read it. */
export interface MetricsEndpoint {
  registry: { contentType: string; metrics(): Promise<string> };
  /** Bearer token scrapers must send (METRICS_TOKEN); without one, loopback clients only. */
  token?: string | undefined;
}

/**
 * The media server's HTTP endpoints:
 *   GET  /health                                              liveness: status and counts, no process ids
 *   GET  /metrics                                             Prometheus (METRICS_TOKEN bearer, or loopback without one)
 *   GET  /workers                                             worker processes with their pids (service)
 *   GET  /rooms                                               rooms with their worker (service)
 *   GET  /rooms/:id/stats                                     producer/consumer stats sampled now (service)
 *   GET  /rooms/:id/track-stats                               latest periodic sample per track (service)
 *   POST /rooms/:id/participants/:identity/drop-signaling     fault injection, ?blockMs= (service)
 *   POST /identities/:identity/revoke                         end an identity's sessions everywhere (service; the API, for a disabled account)
 *   GET  /rooms/:id/participants                              joined participants and their tracks (service)
 *   POST /rooms/:id/participants/:identity/mute               { source }: pause that track on the server, tell its owner (service)
 *   DELETE /rooms/:id/participants/:identity                  remove from the room: sessions closed REMOVED, its tokens refused (service)
 *   PUT|DELETE /rooms/:id/recording                           call recording (signed by the API; see protocol/recording.ts)
 *   POST /drain                                               the admin drain command: no new rooms, running calls go on (service)
 */
export class ServiceApi {
  readonly #options: ServiceApiOptions;

  constructor(options: ServiceApiOptions) {
    this.#options = options;
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const { rooms, pool } = this.#options;
    let url: URL;
    let parts: string[];
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
      parts = url.pathname
        .split('/')
        .filter(Boolean)
        .map((p) => decodeURIComponent(p));
    } catch {
      return json(400, errorJson(400, 'the request target is not a valid path'));
    }
    if (parts.length === 3 && parts[0] === 'rooms' && parts[2] === 'recording') {
      if (!this.#options.recording) return json(404, { error: { code: 'NOT_FOUND', message: 'call recording is not enabled on this media server' } });
      return this.#options.recording.handle(req, res, parts[1] ?? '');
    }
    if (parts[0] === 'rooms' && parts[2] === 'participants' && (parts.length === 3 || parts.length === 4 || (parts.length === 5 && parts[4] === 'mute'))) {
      return this.#participants(req, parts, json);
    }
    const isDrop = req.method === 'POST' && parts.length === 5 && parts[0] === 'rooms' && parts[2] === 'participants' && parts[4] === 'drop-signaling';
    const isRevoke = req.method === 'POST' && parts.length === 3 && parts[0] === 'identities' && parts[2] === 'revoke';
    if (isRevoke) {
      if (!this.#options.isService(req)) return json(401, { error: { code: 'UNAUTHORIZED', message: 'service credentials required' } });
      const identity = parts[1] ?? '';
      if (identity.length === 0 || identity.length > 128) return json(400, errorJson(400, 'an identity has 1 to 128 characters'));
      return json(200, { closed: this.#options.revokeIdentity(identity) });
    }
    const isDrain = req.method === 'POST' && url.pathname === '/drain';
    if (req.method !== 'GET' && !isDrop && !isDrain) {
      res.setHeader('allow', 'GET');
      return json(405, errorJson(405, 'method not allowed here'));
    }
    if (url.pathname === '/health') {
      const alive = pool.workers.filter((w) => !w.worker.closed);
      return json(alive.length > 0 ? 200 : 503, {
        status: alive.length > 0 ? 'ok' : 'degraded',
        workers: alive.length,
        rooms: rooms.rooms.size,
        draining: rooms.draining,
        participants: this.#options.sessionCount(),
      });
    }
    if (url.pathname === '/metrics') return this.#metrics(req, res);
    if (isDrain) {
      if (!this.#options.isService(req)) return json(401, { error: { code: 'UNAUTHORIZED', message: 'service credentials required' } });
      // The process keeps running (unlike SIGTERM): the rooms end by themselves, the node stays out of placement.
      void rooms.drain();
      return json(200, { draining: true, rooms: rooms.rooms.size });
    }
    if (url.pathname === '/workers') {
      if (!this.#options.isService(req)) return json(401, { error: { code: 'UNAUTHORIZED', message: 'service credentials required' } });
      return json(200, { workers: pool.workers.map((w) => ({ index: w.index, pid: w.worker.pid, alive: !w.worker.closed, routers: w.routers })) });
    }
    if (parts[0] !== 'rooms' || parts.length > 5) return json(404, { error: { code: 'NOT_FOUND', message: 'not found' } });
    if (!this.#options.isService(req)) return json(401, { error: { code: 'UNAUTHORIZED', message: 'service credentials required' } });
    if (parts.length === 1) {
      return json(200, {
        rooms: [...rooms.rooms.values()].map(({ room, worker }) => ({
          roomId: room.id,
          workerIndex: worker.index,
          workerPid: worker.worker.pid,
          participants: room.joinedPeers().length,
          consumers: room.consumerCount,
          /** Every worker the room spans (pipeToRouter) with the consumers it serves. */
          workers: [...room.consumersPerWorker()].map(([index, consumers]) => ({ index, consumers })),
        })),
      });
    }
    const room = rooms.get(parts[1] ?? '');
    if (!room) return json(404, { error: { code: 'NOT_FOUND', message: 'no such room' } });
    if (isDrop) {
      const blockMs = Math.min(60_000, Math.max(0, Number(url.searchParams.get('blockMs') ?? 0) || 0));
      const dropped = this.#options.dropSignaling(room.id, parts[3] ?? '', blockMs);
      return json(
        dropped ? 200 : 404,
        dropped ? { dropped: true, blockMs } : { error: { code: 'NOT_FOUND', message: 'no connected participant with that identity' } },
      );
    }
    if (parts.length === 3 && parts[2] === 'stats') return json(200, await room.getStats());
    if (parts.length === 3 && parts[2] === 'links')
      return json(200, { roomId: room.id, remoteParticipants: room.remotePeers.size, links: (await this.#options.roomLinks?.(room.id)) ?? [] });
    if (parts.length === 3 && parts[2] === 'track-stats') {
      return json(200, { roomId: room.id, samples: this.#options.sampler?.latest(room.id) ?? [] });
    }
    return json(404, { error: { code: 'NOT_FOUND', message: 'not found' } });
  }

  /** The participant commands of the API's server routes (a third-party backend with an API key). */
  async #participants(req: http.IncomingMessage, parts: string[], json: (status: number, body: unknown) => void): Promise<void> {
    const expected = parts.length === 3 ? 'GET' : parts.length === 4 ? 'DELETE' : 'POST';
    if (req.method !== expected) return json(405, errorJson(405, `use ${expected} here`));
    if (!this.#options.isService(req)) return json(401, { error: { code: 'UNAUTHORIZED', message: 'service credentials required' } });
    const room = this.#options.rooms.get(parts[1] ?? '');
    if (!room) return json(404, { error: { code: 'ROOM_NOT_FOUND', message: 'no such room on this media node' } });
    if (parts.length === 3) {
      const body: ServiceParticipantsResponse = { roomId: room.id, participants: room.joinedPeers().map(serviceParticipantInfo) };
      return json(200, body);
    }
    const identity = parts[3] ?? '';
    if (identity.length === 0 || identity.length > 128) return json(400, errorJson(400, 'an identity has 1 to 128 characters'));
    if (parts.length === 4) {
      const closed = this.#options.removeParticipant(room.id, identity);
      if (closed === 0) return json(404, { error: { code: 'PARTICIPANT_NOT_FOUND', message: 'no participant with that identity in the room' } });
      const body: ServiceRemoveResponse = { removed: true, closed };
      return json(200, body);
    }
    const parsed = MuteBody.safeParse(await readJson(req));
    if (!parsed.success) return json(400, errorJson(400, `the body must be { "source": ${TRACK_SOURCES.map((s) => `"${s}"`).join(' | ')} }`));
    const result = await muteParticipantTrack(room, identity, parsed.data.source);
    if (result === 'NO_PARTICIPANT') return json(404, { error: { code: 'PARTICIPANT_NOT_FOUND', message: 'no participant with that identity in the room' } });
    if (result === 'NO_TRACK') return json(404, { error: { code: 'TRACK_NOT_FOUND', message: `the participant publishes no ${parsed.data.source} track` } });
    return json(200, result);
  }

  async #metrics(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const refuse = (status: number, code: string, message: string): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ error: { code, message } }));
    };
    const metrics = this.#options.metrics;
    if (!metrics) return refuse(404, 'NOT_FOUND', 'metrics are not enabled');
    if (metrics.token) {
      if (!bearerMatches(req.headers.authorization, metrics.token)) return refuse(401, 'UNAUTHORIZED', 'metrics need the METRICS_TOKEN bearer token');
    } else if (!isLoopbackAddress(req.socket.remoteAddress)) {
      return refuse(403, 'FORBIDDEN', 'metrics are served to loopback clients only (set METRICS_TOKEN to scrape from elsewhere)');
    }
    const body = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
    res.end(body);
  }
}

const MuteBody = z.strictObject({ source: z.enum(TRACK_SOURCES) });

/** A small JSON body; undefined when it is too large or not JSON. */
async function readJson(req: http.IncomingMessage): Promise<unknown> {
  try {
    return JSON.parse((await readBody(req, 4096)).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
