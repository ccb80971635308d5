import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.js';

export interface UserEventRow {
  id: number;
  user_id: string;
  type: string;
  payload_ciphertext: string;
  key_id: string;
  created_at: Date;
}

/** A stored event and the id of its user's previous event (0 for the first), for live delivery. */
export type StoredUserEvent = Pick<UserEventRow, 'id' | 'user_id' | 'type' | 'created_at'> & { prev: number };

type NewUserEvent = { userId: string; type: string; ciphertext: string; keyId: string };

/**
 * Inserts events (in `rows` order) under their users' stream locks (see user_event_heads): each
 * user's ids then commit in increasing order. Take it last in a transaction: the lock is held to commit.
 */
export async function insertUserEvents(db: Db, rows: readonly NewUserEvent[]): Promise<StoredUserEvent[]> {
  if (rows.length === 0) return [];
  const { rows: stored } = await sql<StoredUserEvent>`/* prepared:user-events-insert */
    with heads as (
      select * from user_event_heads(${rows.map((r) => r.userId)}::uuid[])
    ), stored as (${insertAfterHeads(rows)})
    select s.*, ${PREVIOUS_EVENT_ID} as prev from stored s join heads h on h.head_user_id = s.user_id order by s.id`.execute(db);
  // Identity values follow the insert order, which is `rows` order.
  return stored;
}

/**
 * The body of a `stored` CTE: inserts `rows` in order (ids follow it), once the statement's `heads`
 * CTE (user_event_heads: the stream locks) has been read, so no id is drawn before the lock.
 */
export function insertAfterHeads(rows: readonly NewUserEvent[]): RawBuilder<unknown> {
  return sql`
      insert into user_events (user_id, type, payload_ciphertext, key_id)
      select e.user_id, e.type, e.ciphertext, e.key_id
        from unnest(${rows.map((r) => r.userId)}::uuid[], ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.ciphertext)}::text[], ${rows.map((r) => r.keyId)}::text[]) with ordinality as e(user_id, type, ciphertext, key_id, ord)
       where exists (select from heads)
       order by e.ord
      returning id, user_id, type, created_at`;
}

/**
 * The previous event of a row of `stored` joined to its user's `heads` row: the one before it in
 * the same statement, else the user's last committed event.
 */
export const PREVIOUS_EVENT_ID = sql`coalesce(lag(s.id) over (partition by s.user_id order by s.id), h.head_id, 0)`;

export async function findUserEventsAfter(db: Db, userId: string, afterId: number, limit: number): Promise<UserEventRow[]> {
  return db.selectFrom('user_events').selectAll().where('user_id', '=', userId).where('id', '>', afterId).orderBy('id').limit(limit).execute();
}

export async function latestUserEventId(db: Db, userId: string, createdBefore?: Date): Promise<number> {
  let query = db
    .selectFrom('user_events')
    .select((eb) => eb.fn.max('id').as('id'))
    .where('user_id', '=', userId);
  if (createdBefore) query = query.where('created_at', '<', createdBefore);
  const row = await query.executeTakeFirst();
  return Number(row?.id ?? 0);
}
