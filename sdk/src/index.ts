export { Room, type AnyParticipant, type ConnectionState, type RoomEvents } from './room/Room.js';
export type { InternalRoomOptions, RoomOptions } from './defaults.js';
export type { PrepareConnectionOptions } from './room/PreparedConnection.js';
export { DefaultReconnectPolicy, type DefaultReconnectPolicyOptions, type ReconnectContext, type ReconnectPolicy } from './signaling/ReconnectPolicy.js';
export type { ConnectOptions } from './room/RtcSession.js';
export type { AccessRefresher, RoomAccessUpdate } from './signaling/Reconnector.js';
export type { VideoCodecName } from './track/video-codecs.js';
export { Participant, type ParticipantEvents } from './participant/Participant.js';
export { LocalParticipant, type LocalParticipantEvents, type PublishOptions } from './participant/LocalParticipant.js';
export { RemoteParticipant, type ParticipantLeftReason, type RemoteParticipantEvents } from './participant/RemoteParticipant.js';
export { RemoteTrackPublication } from './track/RemoteTrackPublication.js';
export { Track, type TrackEvents } from './track/Track.js';
export { LocalTrack } from './track/LocalTrack.js';
export { RemoteTrack, type VideoQuality } from './track/RemoteTrack.js';
export type { ChatMessage } from './room/ChatChannel.js';
export { computeConnectionQuality, type ConnectionQuality, type QualityInputs } from './quality/ConnectionQuality.js';
export { checkDevices, listDevices, onDeviceChange, type DeviceCheck, type DeviceCheckOptions, type DeviceKind } from './track/devices.js';
export { QualityReporter, type ClientQualitySample, type QualityReporterOptions } from './quality/QualityReporter.js';
export { TypedEmitter, type EventMap, type Listener } from './TypedEmitter.js';
export {
  ConnectionError,
  DeviceError,
  PermissionError,
  SignalingError,
  TelemedError,
  type ApiRequestErrorCode,
  type ConnectionErrorReason,
  type TelemedErrorCode,
} from './errors.js';
export { UnsupportedBrowserError } from './errors.js';
export { assertCallsSupported, checkBrowserSupport, SUPPORTED_BROWSERS_HINT, type BrowserSupport } from './browser-support.js';
// What apps meet of the wire protocol. The server-to-server parts (media-server events, room-token
// claims) are in '@telemed/sdk/protocol'.
export { CloseCode, type SignalingErrorBody, type SignalingErrorCode } from './protocol/errors.js';
export type {
  ConnectionQualityLevel,
  ConsumerLayers,
  JsonObject,
  JsonValue,
  ParticipantInfo,
  PublishedTrackInfo,
  ServerLeftReason,
} from './protocol/messages.js';
export type { ClientTrackStatsSample } from './protocol/media-events.js';
export type { MediaKind, RoomGrants, TrackSource } from './protocol/token.js';
export { API_KEY_SCOPES } from './protocol/api-key-scopes.js';
export * from './client/index.js';
