/** The events a webhook endpoint can subscribe to. `webhook.ping` is sent by a test, to every endpoint asked. */
export const WEBHOOK_EVENT_TYPES = [
  'call.created',
  'call.ringing',
  'call.started',
  'call.participant_joined',
  'call.participant_left',
  'call.ended',
  'recording.updated',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number] | 'webhook.ping';

/** A call as webhooks describe it: ids and states, no names. */
export interface WebhookCall {
  id: string;
  type: 'video' | 'voice';
  /** `ended`, `missed`, `declined` or `cancelled` in `call.ended`. */
  status: 'scheduled' | 'ringing' | 'active' | 'ended' | 'missed' | 'declined' | 'cancelled';
  initiatorId: string;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
  endReason: string | null;
  scheduledFor: string | null;
  participants: Array<{ userId: string; role: 'initiator' | 'invitee'; status: string }>;
}

export interface WebhookRecording {
  id: string;
  callId: string;
  state: string;
  startedAt: string | null;
  stoppedAt: string | null;
  durationSeconds: number | null;
}

/** What each event's `data` holds. */
export interface WebhookEventData {
  'call.created': { call: WebhookCall };
  'call.ringing': { call: WebhookCall };
  'call.started': { call: WebhookCall };
  'call.participant_joined': { call: WebhookCall; userId: string };
  'call.participant_left': { call: WebhookCall; userId: string };
  'call.ended': { call: WebhookCall };
  'recording.updated': { recording: WebhookRecording };
  'webhook.ping': { endpointId: string };
}

/** The JSON body of every webhook. `id` is the event's (the same for every endpoint and every retry): deduplicate on it. */
export type WebhookEvent = {
  [K in WebhookEventType]: { id: string; type: K; createdAt: string; data: WebhookEventData[K] };
}[WebhookEventType];
