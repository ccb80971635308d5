import type { MediaNodeInfo, ServiceMuteResponse, ServiceParticipantInfo, ServiceRemoveResponse, TrackSource } from '@telemed/sdk/protocol';
import { ApiError } from '../http/errors.js';
import type { Logger } from '../logger.js';

export interface MediaRoomClientOptions {
  /** The nodes a room is open on (the Redis registry); null: the one node of MEDIA_INTERNAL_URL. */
  roomNodes: (roomId: string) => Promise<MediaNodeInfo[] | null>;
  /** MEDIA_INTERNAL_URL: the media server's HTTP base without a registry. */
  mediaInternalUrl: string;
  /** MEDIA_SERVICE_SECRET; without it participants cannot be listed, muted or removed. */
  serviceSecret: string | undefined;
  logger: Logger;
  timeoutMs?: number;
}

interface NodeAnswer {
  status: number;
  body: { error?: { code?: string; message?: string } } & Record<string, unknown>;
}

const notInRoom = (): ApiError => new ApiError('NOT_FOUND', 'no participant with that identity in the room');
const noRoom = (): ApiError => new ApiError('NOT_FOUND', 'no such room: it is not open on any media node');

/**
 * The participants of a live room, through the service API of the media nodes it is open on
 * (GET/POST/DELETE /rooms/:id/participants…, see the media server's ServiceApi). A room spanning
 * nodes is asked on each: a participant is on the node its SDK connected to.
 */
export class MediaRoomClient {
  readonly #options: MediaRoomClientOptions;

  constructor(options: MediaRoomClientOptions) {
    this.#options = options;
  }

  async participants(roomId: string): Promise<ServiceParticipantInfo[]> {
    const answers = await Promise.all((await this.#bases(roomId)).map((base) => this.#call(base, 'GET', roomId, '')));
    const found = answers.filter((a) => a.status === 200);
    if (found.length === 0) throw noRoom();
    return found.flatMap((a) => a.body['participants'] as ServiceParticipantInfo[]).sort((x, y) => x.joinedAt.localeCompare(y.joinedAt));
  }

  /** Pauses the participant's track of `source` on the server; its SDK shows it muted by the server. */
  async mute(roomId: string, identity: string, source: TrackSource): Promise<ServiceMuteResponse> {
    let roomSeen = false;
    for (const base of await this.#bases(roomId)) {
      const answer = await this.#call(base, 'POST', roomId, `/${encodeURIComponent(identity)}/mute`, { source });
      if (answer.status === 200) return answer.body as unknown as ServiceMuteResponse;
      const code = answer.body.error?.code;
      if (code === 'TRACK_NOT_FOUND') throw new ApiError('NOT_FOUND', answer.body.error?.message ?? 'the participant publishes no such track');
      if (code !== 'ROOM_NOT_FOUND') roomSeen = true;
    }
    throw roomSeen ? notInRoom() : noRoom();
  }

  /** Ends the participant's sessions in the room (its SDK is told REMOVED and does not reconnect). */
  async remove(roomId: string, identity: string): Promise<ServiceRemoveResponse> {
    let roomSeen = false;
    let closed = 0;
    for (const base of await this.#bases(roomId)) {
      const answer = await this.#call(base, 'DELETE', roomId, `/${encodeURIComponent(identity)}`);
      if (answer.status === 200) closed += (answer.body as unknown as ServiceRemoveResponse).closed;
      if (answer.body.error?.code !== 'ROOM_NOT_FOUND') roomSeen = true;
    }
    if (closed === 0) throw roomSeen ? notInRoom() : noRoom();
    return { removed: true, closed };
  }

  async #bases(roomId: string): Promise<string[]> {
    const nodes = await this.#options.roomNodes(roomId);
    if (nodes === null) return [this.#options.mediaInternalUrl];
    if (nodes.length === 0) throw noRoom();
    return nodes.map((n) => n.internalUrl);
  }

  /** One service request; errors other than the room's 404s and 400s are the media server's fault (503). */
  async #call(base: string, method: 'GET' | 'POST' | 'DELETE', roomId: string, rest: string, body?: unknown): Promise<NodeAnswer> {
    const { serviceSecret, logger } = this.#options;
    if (!serviceSecret)
      throw new ApiError('SERVICE_UNAVAILABLE', "MEDIA_SERVICE_SECRET is not set: the API cannot reach the media server's participant commands");
    let res: Response;
    try {
      res = await fetch(new URL(`/rooms/${encodeURIComponent(roomId)}/participants${rest}`, base), {
        method,
        headers: { authorization: `Bearer ${serviceSecret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      logger.warn({ err: (error as Error).message, roomId, method }, 'media node unreachable for a participant command');
      throw new ApiError('SERVICE_UNAVAILABLE', 'the media server could not be reached; try again shortly');
    }
    const answer: NodeAnswer = { status: res.status, body: ((await res.json().catch(() => ({}))) ?? {}) as NodeAnswer['body'] };
    if (res.status === 200 || res.status === 404) return answer;
    if (res.status === 400) throw new ApiError('BAD_REQUEST', answer.body.error?.message ?? 'the media server refused the request');
    logger.warn({ status: res.status, code: answer.body.error?.code, roomId, method }, 'a media node failed a participant command');
    throw new ApiError('SERVICE_UNAVAILABLE', `the media server answered ${res.status}`);
  }
}
