export { TelemedServerError, WebhookVerificationError, ApiResponseError, type TelemedServerErrorCode, type UnknownWebhookEvent } from './errors.js';
export {
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
  type WebhookEvent,
  type WebhookEventData,
  type WebhookCall,
  type WebhookRecording,
} from './webhook-events.js';
export { WEBHOOK_SIGNATURE_HEADER, signWebhook, verifyWebhook, type VerifyWebhookOptions } from './webhook-signature.js';
export {
  TelemedServerClient,
  type TelemedServerClientOptions,
  type MintRoomTokenOptions,
  type RoomToken,
  type CallAccess,
  type IceServer,
  type ServerCall,
  type ServerCallParticipant,
  type ServerRoom,
  type WebhookDeliveryInfo,
  type RoomParticipant,
  type RoomTrack,
  type TrackSource,
} from './telemed-server-client.js';
