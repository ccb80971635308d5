// Calls as the API shows them (rows → `Call`), and the arithmetic of a participant's stays in the
// media room. Pure: no database, no state.
import type { Call, CallParticipant } from '@telemed/sdk';
import type { ParticipantReconnect } from '@telemed/sdk/protocol';
import { INT4 } from '../http/input.schema.js';
import type { CallParticipantWithName } from './call.repository.js';
import type { CallRow } from './call.table.js';

/** In the call's media room now: joined, and not left since. */
export function inMediaRoom(p: Pick<CallParticipantWithName, 'media_joined_at' | 'media_left_at'>): p is typeof p & { media_joined_at: Date } {
  return p.media_joined_at !== null && (p.media_left_at === null || p.media_left_at < p.media_joined_at);
}

/** The participant's columns once their stay in the media room ends at `at` (seconds added to the closed stays). */
export function endStay(
  p: Pick<CallParticipantWithName, 'media_joined_at' | 'media_left_at' | 'media_seconds'>,
  at: Date,
): { media_left_at: Date; media_seconds: number } {
  const seconds = inMediaRoom(p) ? Math.max(0, Math.round((at.getTime() - p.media_joined_at.getTime()) / 1000)) : 0;
  // An integer column: a media server clock far off must not overflow it.
  return { media_left_at: at, media_seconds: Math.min(INT4.max, p.media_seconds + seconds) };
}

/** A `reconnected` timeline step's detail: JSON `{ how, offlineMs }`, plus `restarts` for an ICE restart. */
export function reconnectDetail({ how, offlineMs, restarts }: ParticipantReconnect): string {
  return JSON.stringify(how === 'ice' ? { how, offlineMs, restarts } : { how, offlineMs });
}

function toParticipant(p: CallParticipantWithName): CallParticipant {
  const inRoom = inMediaRoom(p);
  // Seconds in the media room so far: the closed stays plus, while in the room, the running one.
  const running = inRoom ? Math.max(0, Math.floor((Date.now() - p.media_joined_at!.getTime()) / 1000)) : 0;
  return {
    userId: p.user_id,
    displayName: p.display_name,
    role: p.role,
    status: p.status,
    invitedAt: p.invited_at.toISOString(),
    acceptedAt: p.accepted_at?.toISOString() ?? null,
    leftAt: p.left_at?.toISOString() ?? null,
    mediaSeconds: p.media_seconds + running,
    inRoom,
  };
}

/** `startWindowSeconds`: how long before its time a scheduled call opens (SCHEDULED_CALL_START_WINDOW). */
export function toCall(row: CallRow, participants: CallParticipantWithName[], startWindowSeconds: number): Call {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    initiatorId: row.initiator_id,
    conversationId: row.conversation_id,
    createdAt: row.created_at.toISOString(),
    ringExpiresAt: row.ring_expires_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    endedAt: row.ended_at?.toISOString() ?? null,
    durationSeconds: row.duration_seconds,
    endReason: row.end_reason,
    participants: participants.filter((p) => p.call_id === row.id).map(toParticipant),
    qualitySummary: row.quality_summary,
    scheduledFor: row.scheduled_for?.toISOString() ?? null,
    opensAt: row.scheduled_for ? new Date(row.scheduled_for.getTime() - startWindowSeconds * 1000).toISOString() : null,
    title: row.title,
  };
}
