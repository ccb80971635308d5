// A call's server timeline (GET /api/calls/:id/timeline) in words for the call detail page.
import type { CallTimelineEntry } from '@telemed/sdk';
import { formatNumber } from '../format.js';

export interface TimelineLine {
  at: string;
  kind: string;
  text: string;
}

const STEP_TEXT: Record<string, string> = {
  invited: 'invited',
  accepted: 'accepted',
  joined: 'joined the call',
  declined: 'declined',
  asked: 'asked to join (waiting room)',
  admitted: 'admitted from the waiting room',
  denied: 'not admitted',
  left: 'left the call',
  cancelled: 'cancelled the call',
  scheduled: 'scheduled the call',
  started: 'started the scheduled call',
};

/** A `reconnected` step's detail (`{ how, offlineMs, restarts? }`, JSON) in words; '' when unreadable. */
function reconnectText(detail: string | null): string {
  let parsed: { how?: unknown; offlineMs?: unknown; restarts?: unknown };
  try {
    parsed = JSON.parse(detail ?? '') as typeof parsed;
  } catch {
    return '';
  }
  const ms = parsed.offlineMs;
  const took = typeof ms !== 'number' ? '' : ms < 1000 ? `${Math.round(ms)} ms` : `${formatNumber(ms / 1000)} s`;
  if (parsed.how === 'signaling') return ` (signaling${took ? `, ${took} offline` : ''})`;
  if (parsed.how === 'ice') {
    const restarts = typeof parsed.restarts === 'number' && parsed.restarts > 1 ? `, ${parsed.restarts} attempts` : '';
    return ` (ICE restart${took ? `, media back after ${took}` : ''}${restarts})`;
  }
  return '';
}

/** A `moved` step's detail (`{ from, to, reason }`, JSON) in words; '' when unreadable. */
function movedText(detail: string | null): string {
  try {
    const { from, to } = JSON.parse(detail ?? '') as { from?: unknown; to?: unknown };
    return typeof from === 'string' && typeof to === 'string' ? ` (${from} lost → ${to})` : '';
  } catch {
    return '';
  }
}

/**
 * The server's timeline in words. The media server reports a resumed socket or an ICE restart as
 * `reconnected`. A room join is read as a reconnection too when it follows a leave that was not the
 * participant's choice: a lost connection not resumed in time ('disconnected'), or a room closed
 * under them ('room_closed': a room that closes for good ends the call, so a join after it is the
 * room rebuilt after its worker died).
 */
export function describeTimeline(entries: readonly CallTimelineEntry[]): TimelineLine[] {
  const lost = new Map<string, 'disconnected' | 'room_closed' | 'moved'>();
  const inRoomBefore = new Set<string>();
  return entries.map((e) => {
    const name = e.displayName ?? 'Someone';
    const user = e.userId ?? '';
    let kind = e.kind;
    let text: string;
    if (e.kind === 'created') text = `${name} started a ${e.detail ?? ''} call`;
    else if (e.kind === 'ended' || e.kind === 'missed') text = `Call ${e.kind}${e.detail ? ` (${e.detail})` : ''}`;
    else if (e.kind === 'moved') {
      // The media node hosting the call was lost; the room was placed on another one and everyone moves there.
      text = `Call moved to another media node${movedText(e.detail)}`;
      for (const u of inRoomBefore) lost.set(u, 'moved');
    } else if (e.kind === 'reconnected') text = `${name} reconnected${reconnectText(e.detail)}`;
    else if (e.kind === 'media_joined') {
      const cause = lost.get(user);
      kind = cause ? 'reconnected' : inRoomBefore.has(user) ? 'rejoined' : 'media_joined';
      text = `${name} ${cause === 'room_closed' ? 'reconnected (room rebuilt)' : cause === 'moved' ? 'reconnected (call moved)' : cause ? 'reconnected (rejoined)' : kind === 'rejoined' ? 'rejoined the room' : 'joined the room'}`;
      lost.delete(user);
      inRoomBefore.add(user);
    } else if (e.kind === 'media_left') {
      if (e.detail === 'disconnected' || e.detail === 'room_closed') lost.set(user, e.detail);
      text = `${name} ${e.detail === 'disconnected' ? 'lost the connection' : e.detail === 'removed' ? 'was removed from the room' : e.detail === 'room_closed' ? 'left the room (room closed)' : 'left the room'}`;
    } else text = `${name} ${STEP_TEXT[e.kind] ?? e.kind}`;
    return { at: e.at, kind, text };
  });
}
