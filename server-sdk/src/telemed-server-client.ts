import { ApiResponseError, TelemedServerError } from './errors.js';

export interface TelemedServerClientOptions {
  /** The API's base URL (`https://telemed.example.org`). */
  apiUrl: string;
  /** An API key (`tmk_…`) from the admin app, with the scopes the calls need. */
  apiKey: string;
  /** Per request, ms (default 15000). */
  timeoutMs?: number;
}

export interface MintRoomTokenOptions {
  /** An app room (1-64 letters, digits, - or _): not a call's id, not `dev-…`. */
  room: string;
  identity: string;
  name?: string;
  canPublish?: boolean;
  canSubscribe?: boolean;
  canPublishData?: boolean;
  roomAdmin?: boolean;
  ttlSeconds?: number;
}

export interface RoomToken {
  token: string;
  /** The signaling URL of the media node the room is placed on, to connect to with the browser SDK. */
  url: string;
  expiresIn: number;
  /** TURN servers with credentials for this identity, for `Room.connect`'s `iceServers` (empty without TURN). */
  iceServers: IceServer[];
}

/** A TURN server and its time-limited credentials, as RTCPeerConnection takes them. */
export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

/** What a participant joins an active call's room with: the same as the participant's own `POST /api/calls/{id}/token`. */
export interface CallAccess {
  callId: string;
  /** The media room (a call's room is its id). */
  room: string;
  /** The room token: the participant's identity and name; a doctor is roomAdmin. */
  token: string;
  /** The signaling URL of the media node the call's room is placed on. */
  url: string;
  expiresIn: number;
  /** TURN relays with credentials that expire no later than the token; empty without TURN. */
  iceServers: IceServer[];
}

export interface ServerCallParticipant {
  userId: string;
  displayName: string;
  role: 'initiator' | 'invitee';
  status: string;
  inRoom: boolean;
}

export interface ServerCall {
  id: string;
  type: 'video' | 'voice';
  status: 'scheduled' | 'ringing' | 'active' | 'ended' | 'missed' | 'declined' | 'cancelled';
  initiatorId: string;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  participants: ServerCallParticipant[];
}

export interface ServerRoom {
  room: string;
  callId: string;
  type: 'video' | 'voice';
  startedAt: string | null;
  participants: Array<{ userId: string; status: string; inRoom: boolean }>;
}

/** Where a published track comes from. */
export type TrackSource = 'camera' | 'microphone' | 'screenShare' | 'screenShareAudio';

/** A participant's published track in a live room. */
export interface RoomTrack {
  /** The server's id of the track (the browser SDK's `track.sid`). */
  trackId: string;
  source: TrackSource;
  kind: 'audio' | 'video';
  /** Paused on the server: by its publisher, a room admin or {@link TelemedServerClient.muteParticipant}. */
  muted: boolean;
}

/** Someone connected to a live room now. */
export interface RoomParticipant {
  /** The signaling session's id (a new one when the participant joins again). */
  participantId: string;
  /** The room token's identity (a user's id, or what {@link MintRoomTokenOptions.identity} named). */
  identity: string;
  name: string;
  /** ISO 8601. */
  joinedAt: string;
  tracks: RoomTrack[];
}

export interface WebhookDeliveryInfo {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastError: string | null;
  responseStatus: number | null;
}

/**
 * The API as a third-party backend uses it, with an API key: room tokens (scope room-tokens),
 * calls and their room access (scope calls), rooms (scope rooms), webhook tests (scope webhooks). Errors are
 * ApiResponseError (the API refused: status and code) or TelemedServerError NETWORK_ERROR.
 */
export class TelemedServerClient {
  readonly #apiUrl: URL;
  readonly #apiKey: string;
  readonly #timeoutMs: number;

  constructor(options: TelemedServerClientOptions) {
    try {
      this.#apiUrl = new URL(options.apiUrl);
    } catch {
      throw new TelemedServerError('INVALID_ARGUMENT', `apiUrl is not a URL: ${options.apiUrl}`);
    }
    if (!/^tmk_/.test(options.apiKey ?? '')) throw new TelemedServerError('INVALID_ARGUMENT', 'apiKey must be an API key (tmk_…)');
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
  }

  mintRoomToken(options: MintRoomTokenOptions): Promise<RoomToken> {
    return this.#request('POST', '/api/server/room-tokens', options);
  }

  /** A call from a doctor (`initiatorId`) that rings its invitees as if the doctor had called. */
  createCall(options: { initiatorId: string; inviteeIds: string[]; type: 'video' | 'voice' }): Promise<ServerCall> {
    return this.#request('POST', '/api/server/calls', options);
  }

  /** Ends an active call for everyone; cancels a ringing or scheduled one. */
  endCall(callId: string): Promise<ServerCall> {
    return this.#request('POST', `/api/server/calls/${encodeURIComponent(callId)}/end`);
  }

  /**
   * Room access for an accepted participant of an active call (scope calls), for the backend to hand
   * to its page, which joins with the browser SDK. ApiResponseError 404 for an unknown call, 403 for
   * someone not in it (or not accepted, or disabled), 409 for a call that is not active.
   */
  async callAccess(callId: string, userId: string): Promise<CallAccess> {
    if (!callId || !userId) throw new TelemedServerError('INVALID_ARGUMENT', 'a call id and a user id are required');
    return this.#request('POST', `/api/server/calls/${encodeURIComponent(callId)}/access`, { userId });
  }

  listCalls(options: { status?: ServerCall['status']; cursor?: string; limit?: number } = {}): Promise<{ items: ServerCall[]; nextCursor: string | null }> {
    const query = new URLSearchParams(
      Object.entries(options)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]): [string, string] => [k, String(v)]),
    );
    return this.#request('GET', `/api/server/calls${query.size > 0 ? `?${query}` : ''}`);
  }

  async listRooms(): Promise<ServerRoom[]> {
    return (await this.#request<{ items: ServerRoom[] }>('GET', '/api/server/rooms')).items;
  }

  /**
   * Who is in a live room now, with their tracks (scope rooms). ApiResponseError 404 when the room
   * is open on no media node (nobody is in it).
   */
  async listParticipants(room: string): Promise<RoomParticipant[]> {
    return (await this.#request<{ items: RoomParticipant[] }>('GET', `/api/server/rooms/${encodeURIComponent(room)}/participants`)).items;
  }

  /**
   * Mutes a participant's track of `source` on the server (scope rooms): the others see it muted,
   * the participant's SDK shows it muted by the server (`track.mutedBy === 'server'`) and may
   * unmute it. ApiResponseError 404 when the room, the participant or such a track is not there.
   */
  muteParticipant(room: string, identity: string, source: TrackSource): Promise<{ participant: RoomParticipant; track: RoomTrack }> {
    return this.#request('POST', `${participantPath(room, identity)}/mute`, { source });
  }

  /**
   * Removes a participant from a live room (scope rooms): its SDK disconnects with the reason
   * `removed` and does not reconnect; the room token it joined with is refused from then on, a
   * token minted afterwards may join again. ApiResponseError 404 when it is not in the room.
   */
  async removeParticipant(room: string, identity: string): Promise<void> {
    await this.#request('DELETE', participantPath(room, identity));
  }

  /** Sends a signed `webhook.ping` to an endpoint; follow it with getWebhookDelivery. */
  testWebhook(webhookId: string): Promise<WebhookDeliveryInfo> {
    return this.#request('POST', `/api/server/webhooks/${encodeURIComponent(webhookId)}/test`);
  }

  getWebhookDelivery(webhookId: string, deliveryId: string): Promise<WebhookDeliveryInfo> {
    return this.#request('GET', `/api/server/webhooks/${encodeURIComponent(webhookId)}/deliveries/${encodeURIComponent(deliveryId)}`);
  }

  async #request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.#apiUrl), {
        method,
        headers: { authorization: `Bearer ${this.#apiKey}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
        ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new TelemedServerError('NETWORK_ERROR', `the Telemed API at ${this.#apiUrl.origin} could not be reached`, { cause: error });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiResponseError(res.status, error?.code ?? 'UNKNOWN', error?.message ?? (text.slice(0, 200) || res.statusText));
    }
    return parsed as T;
  }
}

function participantPath(room: string, identity: string): string {
  if (!room || !identity) throw new TelemedServerError('INVALID_ARGUMENT', 'a room and an identity are required');
  return `/api/server/rooms/${encodeURIComponent(room)}/participants/${encodeURIComponent(identity)}`;
}
