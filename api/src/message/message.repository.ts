import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { MessageRow } from './message.table.js';

/** Inserts a message unless this sender already sent this client id here; returns the stored one and whether it is new. */
export async function insertMessageOnce(db: Db, m: { conversationId: string; senderId: string; clientId: string; ciphertext: string; keyId: string; attachmentId: string | null }): Promise<{ row: MessageRow; created: boolean }> {
  const inserted = await db
    .insertInto('messages')
    .values({ conversation_id: m.conversationId, sender_id: m.senderId, client_id: m.clientId, body_ciphertext: m.ciphertext, key_id: m.keyId, attachment_id: m.attachmentId })
    .onConflict((oc) => oc.columns(['conversation_id', 'sender_id', 'client_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { row: inserted, created: true };
  const existing = await db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', m.conversationId)
    .where('sender_id', '=', m.senderId)
    .where('client_id', '=', m.clientId)
    .executeTakeFirstOrThrow();
  return { row: existing, created: false };
}

/** A page of messages: `before` pages back in time (newest first), `after` forward (oldest first). */
export async function listMessages(db: Db, conversationId: string, options: { before?: number | undefined; after?: number | undefined; limit: number }): Promise<MessageRow[]> {
  let query = db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId).limit(options.limit);
  if (options.after !== undefined) return query.where('id', '>', options.after).orderBy('id', 'asc').execute();
  if (options.before !== undefined) query = query.where('id', '<', options.before);
  return query.orderBy('id', 'desc').execute();
}

export async function findMessage(db: Db, id: number): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Records delivered or read receipts for every message of others in (after, upTo]. */
export async function upsertReceipts(db: Db, conversationId: string, userId: string, after: number, upTo: number, kind: 'delivered' | 'read'): Promise<void> {
  const now = new Date();
  await db
    .insertInto('message_receipts')
    .columns(['message_id', 'user_id', 'delivered_at', 'read_at'])
    .expression((eb) =>
      eb
        .selectFrom('messages')
        .select([
          'id',
          sql<string>`${userId}::uuid`.as('user_id'),
          sql<Date>`${now}::timestamptz`.as('delivered_at'),
          sql<Date | null>`${kind === 'read' ? now : null}::timestamptz`.as('read_at'),
        ])
        .where('conversation_id', '=', conversationId)
        .where('sender_id', '!=', userId)
        .where('id', '>', after)
        .where('id', '<=', upTo),
    )
    .onConflict((oc) =>
      oc.columns(['message_id', 'user_id']).doUpdateSet({
        delivered_at: sql`coalesce(message_receipts.delivered_at, excluded.delivered_at)`,
        read_at: sql`coalesce(message_receipts.read_at, excluded.read_at)`,
      }),
    )
    .execute();
}

export async function findReceipts(db: Db, messageId: number): Promise<Array<{ user_id: string; delivered_at: Date | null; read_at: Date | null }>> {
  return db.selectFrom('message_receipts').select(['user_id', 'delivered_at', 'read_at']).where('message_id', '=', messageId).orderBy('user_id').execute();
}

/** Messages unread by a member for longer than `olderThan`, not yet notified (for e-mail). */
export async function findStaleUnread(db: Db, olderThan: Date, limit: number): Promise<Array<{ user_id: string; conversation_id: string; message_id: number }>> {
  return db
    .selectFrom('messages as msg')
    .innerJoin('conversation_members as m', 'm.conversation_id', 'msg.conversation_id')
    .select(['m.user_id', 'msg.conversation_id', (eb) => eb.fn.max('msg.id').as('message_id')])
    .whereRef('msg.sender_id', '!=', 'm.user_id')
    .whereRef('msg.id', '>', 'm.last_read_message_id')
    .where('msg.created_at', '<=', olderThan)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('notifications_sent as n').select('n.user_id').whereRef('n.user_id', '=', 'm.user_id').where('n.kind', '=', 'unread').whereRef('n.ref_id', '=', sql`msg.conversation_id::text`))),
    )
    .groupBy(['m.user_id', 'msg.conversation_id'])
    .limit(limit)
    .execute()
    .then((rows) => rows.map((r) => ({ ...r, message_id: Number(r.message_id) })));
}
