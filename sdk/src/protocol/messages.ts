import type { SignalingErrorBody } from './errors.js';
import type { MediaKind, RoomGrants, TrackSource } from './token.js';

/** Who muted a participant's own track on the server. */
export type LocalTrackMutedBy = 'roomAdmin' | 'server';

/** Why the server says a participant left the room. */
export type ServerLeftReason = 'left' | 'disconnected' | 'removed' | 'replaced';

// mediasoup's parameter shapes travel opaquely between mediasoup-client and mediasoup: the
// server validates their outline and mediasoup validates the rest. Typed here as JSON objects so
// that neither side needs the other's library types.
export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

export interface TransportOptions {
  id: string;
  iceParameters: JsonObject;
  iceCandidates: JsonObject[];
  dtlsParameters: JsonObject;
  sctpParameters?: JsonObject;
}

/** SRTP keying of a load-test plain transport (the suite browsers negotiate with mediasoup). */
export interface LoadTestSrtpParameters {
  cryptoSuite: 'AEAD_AES_256_GCM';
  keyBase64: string;
}

/** A load-test plain transport: where it listens and the key it encrypts with. */
export interface PlainTransportOptions {
  id: string;
  ip: string;
  port: number;
  srtpParameters: LoadTestSrtpParameters;
}

/** A participant's connection quality as its own SDK grades it (see the SDK's ConnectionQuality). */
export type ConnectionQualityLevel = 'excellent' | 'good' | 'poor' | 'lost';

/** A published track as other participants see it. */
export interface PublishedTrackInfo {
  producerId: string;
  kind: MediaKind;
  source: TrackSource;
  paused: boolean;
}

export interface ParticipantInfo {
  id: string;
  identity: string;
  name: string;
  /** Its own SDK's last grade of its link, when it reported one. */
  connectionQuality?: ConnectionQualityLevel;
  tracks: PublishedTrackInfo[];
}

/** Per-consumer stats as the server measures them. */
export interface ConsumerStatsInfo {
  consumerId: string;
  producerId: string;
  participantId: string;
  kind: MediaKind;
  score: number;
  producerScore: number;
  bitrate: number;
  packetCount: number;
  byteCount: number;
  packetsLost: number;
  /** Packets the SFU resent to this subscriber on its NACKs (RTX), since the consumer started. */
  packetsRetransmitted: number;
  paused: boolean;
  producerPaused: boolean;
  /** mediasoup's consumer type: `simple`, `simulcast`, `svc` or `pipe`. */
  type: string;
  /** The spatial/temporal layer being forwarded (simulcast/SVC video), null otherwise. */
  currentLayers: ConsumerLayers | null;
  /** The layers the subscriber asked for (it follows the rendered size). */
  preferredLayers: ConsumerLayers | null;
}

export interface ConsumerLayers {
  spatialLayer: number;
  temporalLayer?: number;
}

export interface ProducerStatsInfo {
  producerId: string;
  participantId: string;
  kind: MediaKind;
  source: TrackSource;
  score: number;
  bitrate: number;
  packetCount: number;
  byteCount: number;
  packetsLost: number;
  /** Packets the publisher resent on the SFU's NACKs (RTX), summed over its encodings. */
  packetsRetransmitted: number;
  /** Lost packets the retransmissions recovered, summed over its encodings. */
  packetsRepaired: number;
  rids: string[];
  /** The simulcast rids that carried media over the SFU's last measuring window (what the publisher's encoder sends now). */
  activeRids: string[];
  paused: boolean;
  /** The codec the publisher sends, e.g. `video/VP9`. */
  mimeType: string;
  /** SVC: the single encoding's scalability mode (e.g. `L3T3_KEY`); null for simulcast and audio. */
  scalabilityMode: string | null;
}

export interface RoomStatsInfo {
  roomId: string;
  participants: number;
  producers: ProducerStatsInfo[];
  consumers: ConsumerStatsInfo[];
  sampledAt: string;
}

/**
 * Requests the client sends, each with its request data and response data. The one definition of
 * the signaling methods: the server's schemas are checked against it at compile time.
 */
export interface SignalingRequests {
  createTransport: {
    request: { direction: 'send' | 'recv'; sctpCapabilities?: JsonObject };
    response: TransportOptions;
  };
  connectTransport: {
    request: { transportId: string; dtlsParameters: JsonObject };
    response: Record<string, never>;
  };
  join: {
    /**
     * `autoSubscribe` (default true): the server subscribes the participant to every track published
     * in the room, now and later. With false it subscribes only on `subscribe` (data channels stay automatic).
     */
    request: { rtpCapabilities: JsonObject; sctpCapabilities?: JsonObject; autoSubscribe?: boolean };
    response: { participants: ParticipantInfo[] };
  };
  produce: {
    request: { transportId: string; kind: MediaKind; source: TrackSource; rtpParameters: JsonObject; paused?: boolean };
    response: { producerId: string };
  };
  closeProducer: { request: { producerId: string }; response: Record<string, never> };
  pauseProducer: { request: { producerId: string }; response: Record<string, never> };
  resumeProducer: { request: { producerId: string }; response: Record<string, never> };
  /**
   * Receive a published track: its consumer comes as `consumerCreated`, as with auto-subscribe.
   * Subscribing to a track already received does nothing.
   */
  subscribe: { request: { producerId: string }; response: Record<string, never> };
  /** Stop receiving a track: its consumer closes (`consumerClosed`). Nothing happens when it is not received. */
  unsubscribe: { request: { producerId: string }; response: Record<string, never> };
  resumeConsumer: { request: { consumerId: string }; response: Record<string, never> };
  /** Pauses a consumer nobody can see (hidden element); resumeConsumer resumes it. */
  pauseConsumer: { request: { consumerId: string }; response: Record<string, never> };
  /** Asks for the highest spatial (and temporal) layer worth sending for the rendered size. */
  setConsumerPreferredLayers: { request: { consumerId: string; spatialLayer: number; temporalLayer?: number }; response: Record<string, never> };
  /** New ICE credentials for a transport (after an ICE failure or a resumed session). */
  restartIce: { request: { transportId: string }; response: { iceParameters: JsonObject } };
  produceData: {
    request: { transportId: string; sctpStreamParameters: JsonObject; label: string; protocol?: string };
    response: { dataProducerId: string };
  };
  /** Room admins: mute (pause) another participant's track. */
  muteParticipantTrack: { request: { participantId: string; producerId: string }; response: Record<string, never> };
  /** Room admins: remove a participant from the room. */
  removeParticipant: { request: { participantId: string }; response: Record<string, never> };
  getStats: { request: Record<string, never>; response: RoomStatsInfo };
  /** Your SDK's grade of your own link, relayed to the others (`participantQuality`): only your side sees your uplink's repaired losses. */
  reportConnectionQuality: { request: { quality: ConnectionQualityLevel }; response: Record<string, never> };
  leave: { request: Record<string, never>; response: Record<string, never> };
  /** Load tests only (token grant `loadTest`): a PlainTransport with SRTP instead of WebRTC. */
  createPlainTransport: { request: { direction: 'send' | 'recv' }; response: PlainTransportOptions };
  /** Load tests only: where the bot's own transport listens, and the key it encrypts with. */
  connectPlainTransport: {
    request: { transportId: string; ip: string; port: number; srtpParameters: LoadTestSrtpParameters };
    response: Record<string, never>;
  };
}
export type SignalingMethod = keyof SignalingRequests;

/** Notifications the server sends. */
export interface ServerNotifications {
  welcome: {
    participantId: string;
    identity: string;
    name: string;
    roomId: string;
    routerRtpCapabilities: JsonObject;
    grants: RoomGrants;
    /** Secret to resume this session on a new socket (`/rtc?token=…&resume=<participantId>&key=<resumeKey>`). */
    resumeKey: string;
    /** True when this socket resumed an existing session: transports, producers and consumers were kept. */
    resumed: boolean;
    /** When the media server ends the call (`MAX_CALL_DURATION` after its room opened), ISO 8601; absent when calls have no limit. */
    endsAt?: string;
  };
  participantJoined: { participant: ParticipantInfo };
  participantLeft: { participantId: string; reason: ServerLeftReason };
  /** Another participant published a track (sent whether or not this participant receives it). */
  trackPublished: { participantId: string; track: PublishedTrackInfo };
  /** Another participant's track is gone (its consumer, if any, closes too). */
  trackUnpublished: { participantId: string; producerId: string };
  consumerCreated: {
    consumerId: string;
    producerId: string;
    participantId: string;
    kind: MediaKind;
    source: TrackSource;
    rtpParameters: JsonObject;
    producerPaused: boolean;
  };
  consumerClosed: { consumerId: string };
  consumerPaused: { consumerId: string };
  consumerResumed: { consumerId: string };
  trackMuted: { participantId: string; producerId: string };
  trackUnmuted: { participantId: string; producerId: string };
  /**
   * One of your own tracks was muted (paused) on the server: by a room admin (`byParticipantId`) or
   * by the platform's server API (a third-party backend with an API key). You may unmute it.
   */
  localTrackMutedByAdmin: { producerId: string; by: LocalTrackMutedBy; byParticipantId?: string };
  dataConsumerCreated: {
    dataConsumerId: string;
    dataProducerId: string;
    participantId: string;
    sctpStreamParameters: JsonObject;
    label: string;
    protocol: string;
  };
  /** The forwarded layers of a simulcast/SVC consumer changed (null: nothing forwarded). */
  consumerLayersChanged: { consumerId: string; layers: ConsumerLayers | null };
  /** Server-side quality of a consumer (0-10) and of the producer behind it. */
  consumerScore: { consumerId: string; score: number; producerScore: number };
  /** Server-side quality of one of your own producers (0-10). */
  producerScore: { producerId: string; score: number };
  /** Another participant's grade of its own link changed (its `reportConnectionQuality`). */
  participantQuality: { participantId: string; quality: ConnectionQualityLevel };
  /** The dominant speaker changed (ActiveSpeakerObserver). */
  activeSpeaker: { participantId: string };
  /**
   * The call reaches the installation's maximum duration soon: sent to everyone at each of the
   * media server's `CALL_END_WARNINGS` (seconds before the end), and to a participant who joins
   * after the first of them. At `endsAt` the room closes with `4413 MAX_DURATION`.
   */
  callEndingSoon: { endsAt: string; secondsLeft: number };
  /** Loudest audio producers in the last interval, dBov (-127 silent .. 0 loudest); empty on silence. */
  audioLevels: { levels: { participantId: string; producerId: string; volume: number }[] };
}
export type ServerNotificationMethod = keyof ServerNotifications;

export interface RequestMessage<M extends SignalingMethod = SignalingMethod> {
  type: 'request';
  id: number;
  method: M;
  data: SignalingRequests[M]['request'];
}

export type ResponseMessage<M extends SignalingMethod = SignalingMethod> =
  | { type: 'response'; id: number; ok: true; data: SignalingRequests[M]['response'] }
  | { type: 'response'; id: number | null; ok: false; error: SignalingErrorBody };

export interface NotificationMessage<N extends ServerNotificationMethod = ServerNotificationMethod> {
  type: 'notification';
  method: N;
  data: ServerNotifications[N];
}

export type ServerMessage = ResponseMessage | NotificationMessage;

/** Largest signaling message the server accepts, in bytes. */
export const MAX_SIGNALING_MESSAGE_BYTES = 64 * 1024;
