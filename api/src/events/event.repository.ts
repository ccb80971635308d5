import type { Db } from '../db/database.js';

export interface UserEventRow {
  id: number;
  user_id: string;
  type: string;
  payload_ciphertext: string;
  key_id: string;
  created_at: Date;
}

export async function insertUserEvents(db: Db, rows: Array<{ userId: string; type: string; ciphertext: string; keyId: string }>): Promise<UserEventRow[]> {
  if (rows.length === 0) return [];
  return db
    .insertInto('user_events')
    .values(rows.map((r) => ({ user_id: r.userId, type: r.type, payload_ciphertext: r.ciphertext, key_id: r.keyId })))
    .returningAll()
    .execute();
}

export async function findUserEventsAfter(db: Db, userId: string, afterId: number, limit: number): Promise<UserEventRow[]> {
  return db.selectFrom('user_events').selectAll().where('user_id', '=', userId).where('id', '>', afterId).orderBy('id').limit(limit).execute();
}

export async function latestUserEventId(db: Db, userId: string): Promise<number> {
  const row = await db.selectFrom('user_events').select((eb) => eb.fn.max('id').as('id')).where('user_id', '=', userId).executeTakeFirst();
  return Number(row?.id ?? 0);
}
