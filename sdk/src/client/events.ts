import type { Call, CallRecording, Message, Presence } from './api-types.js';

/**
 * Realtime events pushed over `WS /events`, one map as the only definition: event name → payload.
 * Each delivered event is `{ id, type, payload, at }`; `id` is the cursor to resume after.
 */
export interface AppEventMap {
  'presence.updated': Presence;
  'message.created': { message: Message };
  'message.delivered': { conversationId: string; userId: string; upToMessageId: number };
  'message.read': { conversationId: string; userId: string; upToMessageId: number };
  'call.ringing': { call: Call };
  /** A call was booked for later (to its participants). Cancelling it sends `call.cancelled`. */
  'call.scheduled': { call: Call };
  /** The doctor started a scheduled call: invitees may join (through the lobby). */
  'call.started': { call: Call };
  'call.accepted': { call: Call; userId: string };
  'call.declined': { call: Call; userId: string };
  'call.cancelled': { call: Call };
  'call.ended': { call: Call };
  'call.missed': { call: Call };
  'call.participant_joined': { call: Call; userId: string };
  'call.participant_left': { call: Call; userId: string };
  /** To the doctors in the call: `userId` waits in the lobby. Admitting sends `call.accepted`. */
  'call.admission_requested': { call: Call; userId: string };
  /** To the doctors in the call and the one turned away. */
  'call.admission_denied': { call: Call; userId: string };
  /**
   * To the call's participants: a recording was asked for, someone consented or refused, it
   * started, paused, resumed, stopped, or its file is ready. Those in `waitingFor` are asked to consent.
   */
  'recording.updated': { recording: CallRecording };
}

export type AppEventType = keyof AppEventMap;

export type AppEvent = { [K in AppEventType]: { type: K; payload: AppEventMap[K] } }[AppEventType];

export type DeliveredAppEvent = AppEvent & { id: number; at: string };

/**
 * Frames the server sends on `/events`. Heartbeat: every `heartbeatMs` (announced in `ready`) the
 * server sends `ping` (and a WebSocket ping); a client answers `pong`, and treats a silence much
 * longer than `heartbeatMs` as a dead link (browsers cannot see WebSocket pings, hence the frames).
 */
export type EventsServerFrame =
  | { kind: 'event'; event: DeliveredAppEvent }
  /** Sent once the catch-up replay is done; `cursor` is the newest id replayed (or the one given). */
  | { kind: 'ready'; cursor: number; truncated: boolean; heartbeatMs: number }
  | { kind: 'ping' }
  | { kind: 'error'; code: string; message: string };

/** Frames a client sends on `/events`: only the heartbeat answer. */
export type EventsClientFrame = { kind: 'pong' };

/** Close codes of `/events` (4000-4999 are the application's). */
export const EventsCloseCode = {
  /** The access token expired: reconnect with a fresh one. */
  TokenExpired: 4001,
  /** No heartbeat within the allowed silence (set by whichever side noticed). */
  HeartbeatTimeout: 4002,
  /** The session ended (logout, password reset, account disabled): sign in again. */
  SessionEnded: 4003,
} as const;
