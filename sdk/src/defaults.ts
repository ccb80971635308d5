import type { ReconnectPolicy } from './signaling/ReconnectPolicy.js';
import type { VideoCodecName } from './track/video-codecs.js';

/** Every Room option, with its default below. */
export interface InternalRoomOptions {
  /** How long to wait for the server's welcome and for each signaling response, in ms. */
  signalTimeoutMs: number;
  /**
   * Join attempts in all when joining times out (no welcome, or a join request unanswered within
   * `signalTimeoutMs`); after the last, connect() rejects with a `ConnectionError` (code `TIMEOUT`).
   */
  joinAttempts: number;
  /** Open a data channel transport (SCTP) for in-call chat. */
  enableDataChannel: boolean;
  /**
   * Receive every track published in the room, now and later. With false the room still lists
   * every publication (`trackPublications`, `trackPublished`) but receives one only after
   * `publication.setSubscribed(true)`; chat is received either way.
   */
  autoSubscribe: boolean;
  /** Receive video at the layer the rendered element needs, and pause video nobody can see. */
  adaptiveStream: boolean;
  /**
   * When to retry a lost connection and when to give up (`disconnected`). By default a
   * DefaultReconnectPolicy built from the three options below.
   */
  reconnectPolicy?: ReconnectPolicy;
  /** Reconnection attempts after a lost connection before giving up (`disconnected`). */
  maxReconnectAttempts: number;
  /** First reconnection delay, ms; doubled per attempt with jitter, up to `reconnectMaxDelayMs`. */
  reconnectBaseDelayMs: number;
  reconnectMaxDelayMs: number;
  /**
   * After an ICE restart (signaling up, media path lost), how long to wait for the transports to
   * connect before restarting ICE again; attempts are bounded by `maxReconnectAttempts`.
   */
  iceRestartTimeoutMs: number;
  /** Connection-quality sampling period, ms. */
  qualityIntervalMs: number;
  /**
   * The camera's codec: `vp9` sends one SVC encoding (`L3T3_KEY` from a 540p+ capture) instead of
   * VP8/H264 simulcast; the SFU forwards each subscriber the spatial layer it renders either way.
   * `auto` (default) takes the first codec the browser and the server share (VP8). A codec the
   * browser cannot send falls back to `auto`.
   */
  preferredVideoCodec: VideoCodecName | 'auto';
  /**
   * Leave the room when the page is hidden for good (`pagehide`: the tab closes, or navigates away),
   * so the others see the participant go at once rather than after the server's liveness timeout.
   */
  leaveOnPageHide: boolean;
}

export type RoomOptions = Partial<InternalRoomOptions>;

export const roomDefaults: InternalRoomOptions = {
  signalTimeoutMs: 10_000,
  joinAttempts: 3,
  enableDataChannel: true,
  autoSubscribe: true,
  adaptiveStream: true,
  maxReconnectAttempts: 20,
  reconnectBaseDelayMs: 250,
  reconnectMaxDelayMs: 2_000,
  iceRestartTimeoutMs: 10_000,
  qualityIntervalMs: 2_000,
  preferredVideoCodec: 'auto',
  leaveOnPageHide: true,
};
