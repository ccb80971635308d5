export { CloseCode, type SignalingErrorBody, type SignalingErrorCode } from './errors.js';
export { API_KEY_SCOPES, type ApiKeyScope } from './api-key-scopes.js';
export type {
  ConnectionQualityLevel,
  ConsumerLayers,
  ConsumerStatsInfo,
  JsonObject,
  JsonValue,
  LocalTrackMutedBy,
  NotificationMessage,
  ParticipantInfo,
  ProducerStatsInfo,
  PublishedTrackInfo,
  RequestMessage,
  ResponseMessage,
  RoomStatsInfo,
  ServerMessage,
  ServerLeftReason,
  ServerNotificationMethod,
  ServerNotifications,
  SignalingMethod,
  SignalingRequests,
  TransportOptions,
} from './messages.js';
export { MAX_SIGNALING_MESSAGE_BYTES } from './messages.js';
export { ROOM_TOKEN_AUDIENCE, ROOM_TOKEN_ISSUER, TRACK_SOURCES, type MediaKind, type RoomGrants, type RoomTokenClaims, type TrackSource } from './token.js';
export {
  MEDIA_EVENTS_AUDIENCE,
  MEDIA_EVENTS_ISSUER,
  type ClientTrackStatsSample,
  type MediaEvent,
  type MediaEventBatch,
  type MediaEventType,
  type ParticipantLeftReason,
  type ParticipantReconnect,
  type ServerTrackStatsSample,
} from './media-events.js';
export {
  RECORDING_COMMAND_AUDIENCE,
  RECORDING_COMMAND_ISSUER,
  RECORDING_UPLOAD_AUDIENCE,
  type RecordingCommand,
  type RecordingGap,
  type RecordingManifest,
  type RecordingStatus,
} from './recording.js';
export { MEDIA_NODE_HEARTBEAT_MS, MEDIA_NODE_TTL_MS, mediaNodeKeys, type MediaNodeInfo, type MediaNodeLoad } from './media-nodes.js';
export type {
  ServiceMuteRequest,
  ServiceMuteResponse,
  ServiceParticipantInfo,
  ServiceParticipantsResponse,
  ServiceRemoveResponse,
  ServiceTrackInfo,
} from './service-api.js';
