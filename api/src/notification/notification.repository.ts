import { sql } from 'kysely';
import type { Db } from '../db/database.js';

/** Claims one notification (kind, ref) for a user; false when another run or instance already did. */
export async function claimNotification(db: Db, userId: string, kind: string, refId: string): Promise<boolean> {
  const row = await db
    .insertInto('notifications_sent')
    .values({ user_id: userId, kind, ref_id: refId })
    .onConflict((oc) => oc.doNothing())
    .returning('user_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Gives a claim back after a failed delivery, so the next run retries it. */
export async function releaseNotification(db: Db, userId: string, kind: string, refId: string): Promise<void> {
  await db.deleteFrom('notifications_sent').where('user_id', '=', userId).where('kind', '=', kind).where('ref_id', '=', refId).execute();
}

/**
 * Invitees who missed a call (ended in the last day) and have not been told yet. A scheduled call
 * the doctor never started is not one the patient missed: no mail for it.
 */
export async function findUnnotifiedMissedCalls(db: Db, limit: number): Promise<Array<{ user_id: string; email: string; call_id: string }>> {
  return db
    .selectFrom('call_participants as p')
    .innerJoin('calls as c', 'c.id', 'p.call_id')
    .innerJoin('users as u', 'u.id', 'p.user_id')
    .select(['p.user_id', 'u.email', 'p.call_id'])
    .where('p.status', '=', 'missed')
    .where('c.end_reason', 'is distinct from', 'not_started')
    .where('c.ended_at', '>', sql<Date>`now() - interval '1 day'`)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('notifications_sent as n')
            .select('n.user_id')
            .whereRef('n.user_id', '=', 'p.user_id')
            .where('n.kind', '=', 'missed_call')
            .whereRef('n.ref_id', '=', sql`p.call_id::text`),
        ),
      ),
    )
    .limit(limit)
    .execute();
}

/** Whether the user has still not read up to `messageId` in the conversation. */
export async function isStillUnread(db: Db, userId: string, conversationId: string, messageId: number): Promise<boolean> {
  const member = await db
    .selectFrom('conversation_members')
    .select('last_read_message_id')
    .where('user_id', '=', userId)
    .where('conversation_id', '=', conversationId)
    .executeTakeFirst();
  return member !== undefined && Number(member.last_read_message_id) < messageId;
}

export async function findEmail(db: Db, userId: string): Promise<string | undefined> {
  return (await db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirst())?.email;
}
