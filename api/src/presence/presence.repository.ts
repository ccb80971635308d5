import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { PresenceRow, PresenceStatus } from './presence.table.js';

/** The status others see: no connection → offline; in a call → in_call; else what the user chose. */
export function deriveStatus(row: Pick<PresenceRow, 'connections' | 'in_call' | 'manual_status'>): PresenceStatus {
  if (row.connections <= 0) return 'offline';
  if (row.in_call) return 'in_call';
  return row.manual_status ?? 'online';
}

/** Applies a change (connection count is adjusted atomically) and stores the derived status. */
export async function updatePresence(
  db: Db,
  userId: string,
  change: { connectionsDelta?: number; manualStatus?: 'away' | 'busy' | null; inCall?: boolean },
): Promise<PresenceRow> {
  const delta = change.connectionsDelta ?? 0;
  await db
    .insertInto('presence')
    .values({ user_id: userId, status: 'offline', manual_status: null, last_seen_at: null })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
  const row = await db
    .updateTable('presence')
    .set({
      connections: sql<number>`greatest(0, presence.connections + ${delta})`,
      ...(change.manualStatus !== undefined ? { manual_status: change.manualStatus } : {}),
      ...(change.inCall !== undefined ? { in_call: change.inCall } : {}),
      ...(delta !== 0 ? { last_seen_at: new Date() } : {}),
      updated_at: new Date(),
    })
    .where('user_id', '=', userId)
    .returningAll()
    .executeTakeFirstOrThrow();
  const status = deriveStatus(row);
  if (status !== row.status) await db.updateTable('presence').set({ status }).where('user_id', '=', userId).execute();
  return { ...row, status };
}

export async function findPresence(db: Db, userIds: readonly string[]): Promise<PresenceRow[]> {
  if (userIds.length === 0) return [];
  return db.selectFrom('presence').selectAll().where('user_id', 'in', userIds).execute();
}
