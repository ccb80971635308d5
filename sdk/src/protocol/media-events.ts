import type { MediaKind, TrackSource } from './token.js';

/**
 * Events the media server reports to the API (like LiveKit's webhooks).
 *
 * Delivery: `POST {API}/internal/media-events` with JSON body {@link MediaEventBatch} and header
 * `Authorization: Bearer <JWT>`; the JWT is HS256-signed with MEDIA_WEBHOOK_SECRET, has
 * `iss: 'telemed-media'`, `aud: 'telemed-api'`, a short `exp`, and `sha256`: the base64url SHA-256 of
 * the exact body bytes. The API rejects a batch whose hash or signature does not match. Events of
 * one room instance carry its `epoch` and increasing `seq` numbers; the media server retries a batch
 * until the API answers 2xx, so the API must ignore a `(roomId, epoch, seq)` it has already applied.
 * A room rebuilt after its worker died is a new instance: a later epoch, `seq` from 1 again.
 */
export interface MediaEventBatch {
  /** The media node that sent the batch. */
  node: string;
  events: MediaEvent[];
}

interface MediaEventBase {
  roomId: string;
  /**
   * The room instance: milliseconds since 1970 when the media server created it, made unique and
   * increasing per server process. Orders the instances of one room (a rebuild has a later epoch).
   */
  epoch: number;
  /** Per-room-instance sequence number, starting at 1 for each epoch. */
  seq: number;
  /** ISO 8601 time the event happened on the media server. */
  at: string;
}

/** `disconnected`: the signaling socket was lost and the session ended unresumed (grace period over, or too much to buffer meanwhile). */
export type ParticipantLeftReason = 'left' | 'disconnected' | 'removed' | 'replaced' | 'room_closed';

/**
 * A participant got back without leaving the room. `signaling`: its socket dropped and it resumed
 * the same session; `offlineMs` runs from the server seeing the socket close to the resume (0 when
 * the client resumed before the server noticed). `ice`: its media path failed while signaling was
 * up and came back after ICE restarts; one event per outage however many restarts the client asked
 * for (`restarts`); `offlineMs` runs from the first restart request to the server seeing each
 * restarted transport's new ICE pair (which can trail the browser's 'connected' by a second or two;
 * the outage began earlier: the client first waits for its ICE checks to fail). The ICE restart a
 * client does right after resuming belongs to that `signaling` reconnection and is not reported.
 */
export interface ParticipantReconnect {
  how: 'signaling' | 'ice';
  offlineMs: number;
  /** restartIce requests in the outage (0 for `signaling`). */
  restarts: number;
}

export type MediaEvent =
  | (MediaEventBase & { type: 'room_started' })
  | (MediaEventBase & { type: 'room_finished'; reason: 'empty' | 'max_duration' | 'worker_died' | 'shutdown' })
  | (MediaEventBase & { type: 'participant_joined'; identity: string; participantId: string })
  | (MediaEventBase & { type: 'participant_left'; identity: string; participantId: string; reason: ParticipantLeftReason })
  | (MediaEventBase & ParticipantReconnect & { type: 'participant_reconnected'; identity: string; participantId: string })
  | (MediaEventBase & { type: 'track_published'; identity: string; participantId: string; trackId: string; kind: MediaKind; source: TrackSource })
  | (MediaEventBase & { type: 'track_unpublished'; identity: string; participantId: string; trackId: string })
  | (MediaEventBase & { type: 'track_stats'; samples: ServerTrackStatsSample[] });

export type MediaEventType = MediaEvent['type'];

/** One server-side sample of a producer (direction 'in') or consumer (direction 'out'). */
export interface ServerTrackStatsSample {
  /** Producer id for 'in'; consumer id for 'out'. */
  trackId: string;
  /** The publisher's producer id (same as trackId for 'in'). */
  producerId: string;
  direction: 'in' | 'out';
  identity: string;
  kind: MediaKind;
  source: TrackSource;
  sampledAt: string;
  score: number;
  bitrateBps: number;
  packets: number;
  packetsLost: number;
  /** Fraction 0..1 over the last interval. */
  lossRatio: number;
  jitterMs: number | null;
  rttMs: number | null;
  nackCount: number;
  pliCount: number;
  firCount: number;
  spatialLayer: number | null;
  temporalLayer: number | null;
}

/** What the SDK samples from RTCPeerConnection.getStats() and posts to the API. */
export interface ClientTrackStatsSample {
  callId: string;
  trackId: string;
  direction: 'in' | 'out';
  kind: MediaKind;
  source: TrackSource;
  sampledAt: string;
  bitrateBps: number;
  packetsLost: number;
  jitterMs: number | null;
  rttMs: number | null;
  framesPerSecond: number | null;
  frameWidth: number | null;
  frameHeight: number | null;
  jitterBufferDelayMs: number | null;
}

export const MEDIA_EVENTS_ISSUER = 'telemed-media';
export const MEDIA_EVENTS_AUDIENCE = 'telemed-api';
