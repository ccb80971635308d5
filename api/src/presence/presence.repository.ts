import { sql, type Transaction } from 'kysely';
import type { Database, Db } from '../db/database.js';
import type { PresenceRow, PresenceStatus } from './presence.table.js';

/** The status others see: no connection → offline; in a call → in_call; else what the user chose. */
export function deriveStatus(row: Pick<PresenceRow, 'connections' | 'in_call' | 'manual_status'>): PresenceStatus {
  if (row.connections <= 0) return 'offline';
  if (row.in_call) return 'in_call';
  return row.manual_status ?? 'online';
}

export interface PresenceChange {
  connectionsDelta?: number;
  manualStatus?: 'away' | 'busy' | null;
  inCall?: boolean;
}

/**
 * Applies a change and stores the derived status, holding the row's lock until `trx` ends: two
 * concurrent changes (a socket closing as another opens) once both read the row, and the later
 * write of the derived status left a connected user stored as offline.
 */
export async function updatePresence(
  trx: Transaction<Database>,
  userId: string,
  change: PresenceChange,
): Promise<{ previous: PresenceStatus; row: PresenceRow }> {
  const delta = change.connectionsDelta ?? 0;
  await trx
    .insertInto('presence')
    .values({ user_id: userId, status: 'offline', manual_status: null, last_seen_at: null })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
  const { status: previous } = await trx.selectFrom('presence').select('status').where('user_id', '=', userId).forUpdate().executeTakeFirstOrThrow();
  const row = await trx
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
  if (status !== row.status) await trx.updateTable('presence').set({ status }).where('user_id', '=', userId).execute();
  return { previous, row: { ...row, status } };
}

export async function findPresence(db: Db, userIds: readonly string[]): Promise<PresenceRow[]> {
  if (userIds.length === 0) return [];
  return db.selectFrom('presence').selectAll().where('user_id', 'in', userIds).execute();
}
