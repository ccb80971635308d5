/** What a room token allows its holder to do in the room. */
export interface RoomGrants {
  /** May publish tracks (restricted to `canPublishSources` when given). */
  canPublish: boolean;
  /** Which sources may be published; all when omitted. */
  canPublishSources?: TrackSource[];
  /** May receive other participants' tracks. */
  canSubscribe: boolean;
  /** May send data-channel messages (in-call chat). */
  canPublishData: boolean;
  /** May mute others' tracks and remove participants. */
  roomAdmin: boolean;
  /** Load-test bots only: may carry media over SRTP PlainTransports instead of WebRTC. */
  loadTest?: boolean;
}

/** The claims of the JWT (HS256) the API issues and the media server verifies. */
export interface RoomTokenClaims {
  /** Room id. */
  room: string;
  /** Participant identity (the user id). */
  sub: string;
  /** Display name shown to other participants. */
  name?: string;
  grants: RoomGrants;
  /**
   * When the room's call started (seconds since 1970), so a room rebuilt on another media node, or
   * spanning a second one, keeps the call's clock for `MAX_CALL_DURATION`. Omitted: the room's
   * creation.
   */
  roomStartedAt?: number;
  iat: number;
  exp: number;
  iss: typeof ROOM_TOKEN_ISSUER;
  aud: typeof ROOM_TOKEN_AUDIENCE;
}

export const ROOM_TOKEN_ISSUER = 'telemed-api';
export const ROOM_TOKEN_AUDIENCE = 'telemed-media';

/** Where a track comes from. */
export type TrackSource = 'camera' | 'microphone' | 'screenShare' | 'screenShareAudio';
/** Every {@link TrackSource}, for the servers' input schemas. */
export const TRACK_SOURCES = ['camera', 'microphone', 'screenShare', 'screenShareAudio'] as const satisfies readonly TrackSource[];
export type MediaKind = 'audio' | 'video';
