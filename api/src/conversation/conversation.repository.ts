import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { ConversationKind, ConversationRow } from './conversation.table.js';

/**
 * A new conversation with its members, in one go. Membership is set here only: no function adds
 * members to an existing conversation (a direct one never gains members; the SQL trigger of
 * migration conversation-members-fixed refuses it too).
 */
export async function insertConversation(
  db: Db,
  c: { kind: ConversationKind; title: string | null; createdBy: string; memberIds: readonly string[] },
): Promise<ConversationRow> {
  const row = await db
    .insertInto('conversations')
    .values({ kind: c.kind, title: c.title, created_by: c.createdBy, last_message_at: null })
    .returningAll()
    .executeTakeFirstOrThrow();
  await db
    .insertInto('conversation_members')
    .values([...new Set(c.memberIds)].map((user_id) => ({ conversation_id: row.id, user_id })))
    .execute();
  return row;
}

export async function isMember(db: Db, conversationId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('conversation_members')
    .select('user_id')
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function findConversation(db: Db, id: string): Promise<ConversationRow | undefined> {
  return db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The direct conversation between exactly these two users, if there is one. */
export async function findDirectConversation(db: Db, a: string, b: string): Promise<ConversationRow | undefined> {
  return db
    .selectFrom('conversations as c')
    .selectAll('c')
    .where('c.kind', '=', 'direct')
    .where('c.id', 'in', (eb) => eb.selectFrom('conversation_members').select('conversation_id').where('user_id', '=', a))
    .where('c.id', 'in', (eb) => eb.selectFrom('conversation_members').select('conversation_id').where('user_id', '=', b))
    .executeTakeFirst();
}

export interface MemberRow {
  conversation_id: string;
  user_id: string;
  display_name: string;
  role: 'patient' | 'doctor' | 'admin';
  last_read_message_id: number;
  last_delivered_message_id: number;
}

export async function findMembers(db: Db, conversationIds: readonly string[]): Promise<MemberRow[]> {
  if (conversationIds.length === 0) return [];
  return db
    .selectFrom('conversation_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.conversation_id', 'm.user_id', 'u.display_name', 'u.role', 'm.last_read_message_id', 'm.last_delivered_message_id'])
    .where('m.conversation_id', 'in', conversationIds)
    .orderBy('m.joined_at')
    .execute();
}

export type ConversationWithUnread = ConversationRow & { unread_count: number };

/** A user's conversations, most recently active first, with their unread counts. */
export async function listConversations(db: Db, userId: string, limit: number, before?: { at: Date; id: string }): Promise<ConversationWithUnread[]> {
  let query = db
    .selectFrom('conversations as c')
    .innerJoin('conversation_members as m', (join) => join.onRef('m.conversation_id', '=', 'c.id').on('m.user_id', '=', userId))
    .selectAll('c')
    .select((eb) =>
      eb
        .selectFrom('messages as msg')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('msg.conversation_id', '=', 'c.id')
        .whereRef('msg.id', '>', 'm.last_read_message_id')
        .where('msg.sender_id', '!=', userId)
        .as('unread_count'),
    )
    .orderBy(sql`coalesce(c.last_message_at, c.created_at)`, 'desc')
    .orderBy('c.id', 'desc')
    .limit(limit);
  if (before) query = query.where(sql<boolean>`(coalesce(c.last_message_at, c.created_at), c.id) < (${before.at}, ${before.id}::uuid)`);
  const rows = await query.execute();
  return rows.map((r) => ({ ...r, unread_count: Number(r.unread_count ?? 0) }));
}

export async function unreadCount(db: Db, conversationId: string, userId: string): Promise<number> {
  const row = await db
    .selectFrom('messages as msg')
    .innerJoin('conversation_members as m', (join) => join.onRef('m.conversation_id', '=', 'msg.conversation_id').on('m.user_id', '=', userId))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('msg.conversation_id', '=', conversationId)
    .whereRef('msg.id', '>', 'm.last_read_message_id')
    .where('msg.sender_id', '!=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findMemberIds(db: Db, conversationId: string): Promise<string[]> {
  const rows = await db.selectFrom('conversation_members').select('user_id').where('conversation_id', '=', conversationId).orderBy('joined_at').execute();
  return rows.map((r) => r.user_id);
}

/** Moves a member's delivered/read pointer forward (never back); returns the previous value. */
export async function advancePointer(
  db: Db,
  conversationId: string,
  userId: string,
  column: 'last_read_message_id' | 'last_delivered_message_id',
  upTo: number,
): Promise<number | undefined> {
  const before = await db
    .selectFrom('conversation_members')
    .select(column)
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
  if (!before) return undefined;
  const previous = Number(before[column]);
  if (upTo > previous) {
    await db
      .updateTable('conversation_members')
      .set({ [column]: upTo })
      .where('conversation_id', '=', conversationId)
      .where('user_id', '=', userId)
      .execute();
  }
  return previous;
}
