import type { CallTimelineEntry } from '@telemed/sdk';
import type { Db } from '../db/database.js';

export interface TimelineStep {
  callId: string;
  kind: string;
  userId?: string | null | undefined;
  detail?: string | null | undefined;
  at?: Date | undefined;
}

/** Appends steps to calls' timelines (several at once for a group's invitees). */
export async function recordTimeline(db: Db, steps: readonly TimelineStep[]): Promise<void> {
  if (steps.length === 0) return;
  await db
    .insertInto('call_timeline')
    .values(steps.map((s) => ({ call_id: s.callId, kind: s.kind, user_id: s.userId ?? null, detail: s.detail ?? null, ...(s.at ? { at: s.at } : {}) })))
    .execute();
}

export async function listTimeline(db: Db, callId: string): Promise<CallTimelineEntry[]> {
  const rows = await db
    .selectFrom('call_timeline as t')
    .leftJoin('users as u', 'u.id', 't.user_id')
    .select(['t.at', 't.user_id', 't.kind', 't.detail', 'u.display_name'])
    .where('t.call_id', '=', callId)
    .orderBy('t.at')
    .orderBy('t.id')
    .execute();
  return rows.map((r) => ({ at: r.at.toISOString(), userId: r.user_id, displayName: r.display_name, kind: r.kind, detail: r.detail }));
}
