/**
 * The REST API's resources as JSON, shared by the API (which checks its zod schemas against these
 * types at compile time) and the browser client. Times are ISO 8601 strings.
 */
import type { ApiKeyScope } from '../protocol/api-key-scopes.js';

export type { ApiKeyScope };

export type Role = 'patient' | 'doctor' | 'admin';

export interface User {
  id: string;
  email: string;
  role: Role;
  displayName: string;
  createdAt: string;
}

export interface Session {
  accessToken: string;
  /** Seconds until the access token expires. */
  accessTokenExpiresIn: number;
  refreshToken: string;
  user: User;
}

export type CallType = 'video' | 'voice';
/** `scheduled`: booked for `scheduledFor` (no ringing); the doctor who booked it starts it (then `active`). */
export type CallStatus = 'scheduled' | 'ringing' | 'active' | 'ended' | 'missed' | 'declined' | 'cancelled';
/** `waiting`: asked to join a running call and waits in its lobby for a doctor to admit (or deny) them. */
export type CallParticipantStatus = 'invited' | 'accepted' | 'declined' | 'missed' | 'left' | 'waiting' | 'denied';

export interface CallParticipant {
  userId: string;
  displayName: string;
  role: 'initiator' | 'invitee';
  status: CallParticipantStatus;
  invitedAt: string;
  acceptedAt: string | null;
  leftAt: string | null;
  /** Seconds this participant was connected to the media server. */
  mediaSeconds: number;
  inRoom: boolean;
}

export interface QualitySummary {
  samples: number;
  worstScore: number | null;
  medianScore: number | null;
  maxLossRatio: number | null;
  medianRttMs: number | null;
  maxRttMs: number | null;
}

export interface Call {
  id: string;
  type: CallType;
  status: CallStatus;
  initiatorId: string;
  conversationId: string | null;
  createdAt: string;
  ringExpiresAt: string;
  startedAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
  endReason: string | null;
  participants: CallParticipant[];
  qualitySummary: QualitySummary | null;
  /** When a scheduled call (appointment) is booked for; null for calls that rang at once. */
  scheduledFor: string | null;
  /** From when a scheduled call can be started by its doctor and its lobby joined (SCHEDULED_CALL_START_WINDOW before scheduledFor). */
  opensAt: string | null;
  /** A scheduled call's short title. */
  title: string | null;
}

/**
 * One step of a call, in order. Lifecycle: created (or scheduled: `detail` is the type and the
 * booked time), invited, started (a scheduled call), accepted, declined, asked (to join, waits in
 * the lobby), admitted, denied, left, missed (`detail` timeout or not_started), cancelled, ended. Media room: media_joined,
 * media_left (`detail` says why: left, disconnected, removed...); a media_joined after a
 * media_left 'disconnected' is a reconnection.
 */
export interface CallTimelineEntry {
  at: string;
  userId: string | null;
  displayName: string | null;
  kind: string;
  detail: string | null;
}

/** What an accepted participant needs to join the media room. */
export interface RoomAccess {
  callId: string;
  room: string;
  token: string;
  /** The media server's signaling URL. */
  url: string;
  expiresIn: number;
  /**
   * TURN relays for this call with time-limited credentials (expiring no later than `token`); pass
   * them to `Room.connect()`. Empty when the deployment has no TURN server.
   */
  iceServers: IceServer[];
}

/** A TURN server and its credentials, as RTCPeerConnection takes them. */
export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export type ConversationKind = 'direct' | 'group' | 'call';

export interface ConversationMember {
  userId: string;
  displayName: string;
  role: Role;
  lastReadMessageId: number;
  lastDeliveredMessageId: number;
}

export interface Conversation {
  id: string;
  kind: ConversationKind;
  title: string | null;
  createdAt: string;
  lastMessageAt: string | null;
  members: ConversationMember[];
  unreadCount: number;
}

export interface Message {
  id: number;
  conversationId: string;
  senderId: string;
  clientId: string;
  body: string;
  attachmentId: string | null;
  createdAt: string;
}

export type PresenceStatus = 'online' | 'away' | 'busy' | 'in_call' | 'offline';

export interface Presence {
  userId: string;
  status: PresenceStatus;
  lastSeenAt: string | null;
}

export interface Attachment {
  id: string;
  conversationId: string;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  createdAt: string;
}

export interface Receipt {
  userId: string;
  deliveredAt: string | null;
  readAt: string | null;
}

export interface CallHistoryFilter {
  status?: CallStatus;
  type?: CallType;
  /** ISO 8601: calls created at or after. */
  from?: string;
  /** ISO 8601: calls created before. */
  to?: string;
  participantId?: string;
  cursor?: string;
  limit?: number;
}

/** A doctor books a call with contacts for later. */
export interface ScheduleCallInput {
  type: CallType;
  inviteeIds: string[];
  /** ISO 8601, in the future (at most 90 days ahead). */
  scheduledFor: string;
  title?: string;
}

export interface QualitySample {
  source: 'server' | 'client';
  identity: string;
  trackId: string;
  direction: 'in' | 'out';
  kind: string;
  sampledAt: string;
  score: number | null;
  bitrateBps: number;
  packetsLost: number;
  lossRatio: number | null;
  jitterMs: number | null;
  rttMs: number | null;
  framesPerSecond: number | null;
  frameWidth: number | null;
  frameHeight: number | null;
}

/** The API's error codes, one per HTTP status it uses. */
export type ApiErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'REQUEST_TIMEOUT'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'VALIDATION_FAILED'
  | 'RATE_LIMITED'
  | 'HEADERS_TOO_LARGE'
  | 'NOT_IMPLEMENTED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL';

/** The API's error body: `{ error: ApiErrorBody }`. */
export interface ApiErrorBody {
  code: ApiErrorCode;
  message: string;
  details?: unknown;
}

/**
 * A call recording. Rule: it records only while everyone in the call's media room has consented;
 * it waits for everyone before it starts, and pauses when someone joins until they consent too.
 * A refusal before it started ends the request (`refused`); later, it keeps it paused while the
 * one who refused is in the room.
 */
export type RecordingState = 'awaiting_consent' | 'recording' | 'paused' | 'refused' | 'cancelled' | 'processing' | 'ready' | 'failed' | 'deleted';

export interface RecordingConsent {
  userId: string;
  decision: 'granted' | 'refused';
  decidedAt: string;
}

export interface CallRecording {
  id: string;
  callId: string;
  state: RecordingState;
  /** The doctor who asked for it (their request counts as their consent). */
  requestedBy: string;
  createdAt: string;
  /** When it first recorded; null while it waits for consent. */
  startedAt: string | null;
  stoppedAt: string | null;
  consents: RecordingConsent[];
  /** Participants in the room whose consent it waits for. */
  waitingFor: string[];
  /** Of the stored file, once `ready`. */
  durationSeconds: number | null;
  sizeBytes: number | null;
  /** Spans lost because a recorder process died and was restarted. */
  gaps: Array<{ fromMs: number; toMs: number }>;
  /** When retention deletes it (RECORDING_RETENTION_DAYS); null: kept. */
  expiresAt: string | null;
}

/** An API key as listed: never its secret, only its public prefix. */
export interface ApiKey {
  id: string;
  name: string;
  /** The key's public part (`tmk_<prefix>_…`), to recognise it in lists and logs. */
  prefix: string;
  scopes: ApiKeyScope[];
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A webhook endpoint an admin registered. `eventTypes` are the server SDK's `WEBHOOK_EVENT_TYPES`. */
export interface Webhook {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  createdBy: string;
  createdAt: string;
  disabledAt: string | null;
}

/** One event's delivery to one endpoint, with its retries. */
export interface WebhookDelivery {
  id: string;
  endpointId: string;
  /** The event's id (also the body's `id`): the same for every endpoint and retry. */
  eventId: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** When a pending delivery is tried next. */
  nextAttemptAt: string | null;
  lastError: string | null;
  /** The endpoint's last HTTP status; null when it could not be reached. */
  responseStatus: number | null;
  createdAt: string;
  deliveredAt: string | null;
}

/** A user as the admin routes show them: with whether the account is usable. */
export interface AdminUser extends User {
  /** `invited`: no password set yet; `disabled`: cannot sign in. */
  status: 'invited' | 'active' | 'disabled';
  disabledAt: string | null;
}

/** A set-password link the server issued: mailed, or handed to the admin when it could not be. */
export interface Invitation {
  purpose: 'invite' | 'reset';
  expiresAt: string;
  mailed: boolean;
  /** The link, only when it could not be mailed (no SMTP, or sending failed). */
  url?: string;
}

export interface CareRelationship {
  doctorId: string;
  doctorName: string;
  patientId: string;
  patientName: string;
  createdAt: string;
}

export interface CareTeam {
  id: string;
  name: string;
  createdAt: string;
  doctors: Array<{ id: string; displayName: string }>;
  patients: Array<{ id: string; displayName: string }>;
}

/** One audit-log row: who did what to which record. */
export interface AuditRow {
  id: number;
  at: string;
  actorId: string | null;
  actorName: string | null;
  action: string;
  entityType: string;
  /** The record, or `*` when the row covers several (`entityIds`). */
  entityId: string;
  entityIds: string[] | null;
  ip: string | null;
  requestId: string | null;
}
