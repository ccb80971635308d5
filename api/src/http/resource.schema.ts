import { API_KEY_SCOPES } from '@telemed/sdk/protocol';
import { z } from 'zod';
import type {
  ApiErrorBody,
  ApiKey,
  Attachment,
  Call,
  Conversation,
  Message,
  Presence,
  QualitySample,
  RoomAccess,
  Session,
  User,
  Webhook,
  WebhookDelivery,
} from '@telemed/sdk';

/**
 * The JSON resources the API answers with. Each schema is checked at compile time against the
 * type the browser SDK uses (sdk/src/client/api-types.ts), so the two cannot drift apart.
 */
export type Same<S extends z.ZodType, T> = [z.output<S>] extends [T] ? ([T] extends [z.output<S>] ? true : false) : false;
export const same = <S extends z.ZodType, T>(schema: S, ok: Same<S, T>): S => {
  void ok;
  return schema;
};

export { Uuid } from './input.schema.js';
export const RoleSchema = z.enum(['patient', 'doctor', 'admin']);

const UserShape = z.object({ id: z.string(), email: z.string(), role: RoleSchema, displayName: z.string(), createdAt: z.string() }).meta({ id: 'User' });
export const UserSchema = same<typeof UserShape, User>(UserShape, true);

const SessionShape = z
  .object({ accessToken: z.string(), accessTokenExpiresIn: z.number().int(), refreshToken: z.string(), user: UserSchema })
  .meta({ id: 'Session' });
export const SessionSchema = same<typeof SessionShape, Session>(SessionShape, true);

const QualitySummaryShape = z.object({
  samples: z.number().int(),
  worstScore: z.number().nullable(),
  medianScore: z.number().nullable(),
  maxLossRatio: z.number().nullable(),
  medianRttMs: z.number().nullable(),
  maxRttMs: z.number().nullable(),
});

const CallParticipantShape = z.object({
  userId: z.string(),
  displayName: z.string(),
  role: z.enum(['initiator', 'invitee']),
  status: z.enum(['invited', 'accepted', 'declined', 'missed', 'left', 'waiting', 'denied']),
  invitedAt: z.string(),
  acceptedAt: z.string().nullable(),
  leftAt: z.string().nullable(),
  mediaSeconds: z.number().int().describe('Seconds in the media room so far, the current stay included while inRoom'),
  inRoom: z.boolean(),
});

export const CallTypeSchema = z.enum(['video', 'voice']);
export const CallStatusSchema = z.enum(['scheduled', 'ringing', 'active', 'ended', 'missed', 'declined', 'cancelled']);

const CallShape = z
  .object({
    id: z.string(),
    type: CallTypeSchema,
    status: CallStatusSchema,
    initiatorId: z.string(),
    conversationId: z.string().nullable(),
    createdAt: z.string(),
    ringExpiresAt: z.string(),
    startedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    durationSeconds: z.number().int().nullable(),
    endReason: z.string().nullable(),
    participants: z.array(CallParticipantShape),
    qualitySummary: QualitySummaryShape.nullable(),
    scheduledFor: z.string().nullable().describe('When a scheduled call is booked for; null for calls that rang at once'),
    opensAt: z.string().nullable().describe('From when a scheduled call can be started and its lobby joined (SCHEDULED_CALL_START_WINDOW before scheduledFor)'),
    title: z.string().nullable(),
  })
  .meta({ id: 'Call' });
export const CallSchema = same<typeof CallShape, Call>(CallShape, true);

export const IceServerSchema = z.object({ urls: z.array(z.string()), username: z.string(), credential: z.string() }).meta({ id: 'IceServer' });
const RoomAccessShape = z
  .object({
    callId: z.string(),
    room: z.string(),
    token: z.string(),
    url: z.string(),
    expiresIn: z.number().int(),
    iceServers: z.array(IceServerSchema).describe('TURN servers with credentials that expire no later than the token (empty without TURN)'),
  })
  .meta({ id: 'RoomAccess' });
export const RoomAccessSchema = same<typeof RoomAccessShape, RoomAccess>(RoomAccessShape, true);

const ConversationShape = z
  .object({
    id: z.string(),
    kind: z.enum(['direct', 'group', 'call']),
    title: z.string().nullable(),
    createdAt: z.string(),
    lastMessageAt: z.string().nullable(),
    unreadCount: z.number().int(),
    members: z.array(
      z.object({
        userId: z.string(),
        displayName: z.string(),
        role: RoleSchema,
        lastReadMessageId: z.number().int(),
        lastDeliveredMessageId: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'Conversation' });
export const ConversationSchema = same<typeof ConversationShape, Conversation>(ConversationShape, true);

const MessageShape = z
  .object({
    id: z.number().int(),
    conversationId: z.string(),
    senderId: z.string(),
    clientId: z.string(),
    body: z.string(),
    attachmentId: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Message' });
export const MessageSchema = same<typeof MessageShape, Message>(MessageShape, true);

const PresenceShape = z
  .object({ userId: z.string(), status: z.enum(['online', 'away', 'busy', 'in_call', 'offline']), lastSeenAt: z.string().nullable() })
  .meta({ id: 'Presence' });
export const PresenceSchema = same<typeof PresenceShape, Presence>(PresenceShape, true);

const QualitySampleShape = z
  .object({
    source: z.enum(['server', 'client']),
    identity: z.string(),
    trackId: z.string(),
    direction: z.enum(['in', 'out']),
    kind: z.string(),
    sampledAt: z.string(),
    score: z.number().nullable(),
    bitrateBps: z.number(),
    packetsLost: z.number().int(),
    lossRatio: z.number().nullable(),
    jitterMs: z.number().nullable(),
    rttMs: z.number().nullable(),
    framesPerSecond: z.number().nullable(),
    frameWidth: z.number().int().nullable(),
    frameHeight: z.number().int().nullable(),
  })
  .meta({ id: 'QualitySample' });
export const QualitySampleSchema = same<typeof QualitySampleShape, QualitySample>(QualitySampleShape, true);

const AttachmentShape = z
  .object({
    id: z.string(),
    conversationId: z.string(),
    fileName: z.string(),
    contentType: z.string(),
    sizeBytes: z.number().int(),
    sha256: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'Attachment' });
export const AttachmentSchema = same<typeof AttachmentShape, Attachment>(AttachmentShape, true);

const ApiKeyShape = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    createdBy: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });
export const ApiKeySchema = same<typeof ApiKeyShape, ApiKey>(ApiKeyShape, true);

const WebhookShape = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(z.string()),
    createdBy: z.string(),
    createdAt: z.string(),
    disabledAt: z.string().nullable(),
  })
  .meta({ id: 'Webhook' });
export const WebhookSchema = same<typeof WebhookShape, Webhook>(WebhookShape, true);

export const WebhookDeliveryStatusSchema = z.enum(['pending', 'delivered', 'failed']);
const WebhookDeliveryShape = z
  .object({
    id: z.string(),
    endpointId: z.string(),
    eventId: z.string().describe("The event's id (also the body's `id`): the same for every endpoint and retry"),
    eventType: z.string(),
    status: WebhookDeliveryStatusSchema,
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable().describe('When a pending delivery is tried next'),
    lastError: z.string().nullable(),
    responseStatus: z.number().int().nullable().describe("The endpoint's last HTTP status; null when it could not be reached"),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });
export const WebhookDeliverySchema = same<typeof WebhookDeliveryShape, WebhookDelivery>(WebhookDeliveryShape, true);

const ErrorShape = z.object({
  code: z.enum([
    'BAD_REQUEST',
    'UNAUTHORIZED',
    'FORBIDDEN',
    'NOT_FOUND',
    'METHOD_NOT_ALLOWED',
    'REQUEST_TIMEOUT',
    'CONFLICT',
    'PAYLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'VALIDATION_FAILED',
    'RATE_LIMITED',
    'HEADERS_TOO_LARGE',
    'NOT_IMPLEMENTED',
    'SERVICE_UNAVAILABLE',
    'INTERNAL',
  ]),
  message: z.string(),
  details: z.unknown().optional(),
});
export const ErrorBodySchema = same<typeof ErrorShape, ApiErrorBody>(ErrorShape, true);

export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });
