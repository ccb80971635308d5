import { sql } from 'kysely';
import type { AuditEntry } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import { PREVIOUS_EVENT_ID, insertAfterHeads, type StoredUserEvent } from '../events/event.repository.js';
import type { MessageRow } from './message.table.js';

/** Inserts a message unless this sender already sent this client id here; returns the stored one and whether it is new. */
export async function insertMessageOnce(
  db: Db,
  m: { conversationId: string; senderId: string; clientId: string; ciphertext: string; keyId: string; attachmentId: string | null },
): Promise<{ row: MessageRow; created: boolean }> {
  const inserted = await db
    .insertInto('messages')
    .values({
      conversation_id: m.conversationId,
      sender_id: m.senderId,
      client_id: m.clientId,
      body_ciphertext: m.ciphertext,
      key_id: m.keyId,
      attachment_id: m.attachmentId,
    })
    .onConflict((oc) => oc.columns(['conversation_id', 'sender_id', 'client_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { row: inserted, created: true };
  const existing = await findSent(db, m.conversationId, m.senderId, m.clientId);
  if (!existing) throw new Error('the message that conflicted is not visible');
  return { row: existing, created: false };
}

/** The message this sender sent here under this client id, if any. */
export async function findSent(db: Db, conversationId: string, senderId: string, clientId: string): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('sender_id', '=', senderId)
    .where('client_id', '=', clientId)
    .executeTakeFirst();
}

/** What a send needs to know before it writes: the members, a message id (members only) and the time, read in one statement. */
export interface SendPlan {
  /** Every member, oldest first (the recipients of the new message's event). */
  memberIds: string[];
  /** The id the message will have (allocated only when the sender is a member). */
  id: number | null;
  at: Date;
  /** The attachment named, if it exists: its conversation and who uploaded it. */
  attachment: { conversationId: string; uploaderId: string } | null;
}

export async function planSend(db: Db, conversationId: string, senderId: string, attachmentId: string | null): Promise<SendPlan> {
  const { rows } = await sql<{
    member_ids: string[];
    id: number | null;
    at: Date;
    attachment_conversation_id: string | null;
    attachment_uploader_id: string | null;
  }>`/* prepared:send-plan */
    with m as (select coalesce(array_agg(user_id::text order by joined_at), '{}') as ids from conversation_members where conversation_id = ${conversationId}),
         a as (select conversation_id, uploader_id from attachments where id = ${attachmentId}::uuid)
    select m.ids as member_ids,
           case when ${senderId} = any(m.ids) then nextval(pg_get_serial_sequence('messages', 'id')) end as id,
           now() as at,
           a.conversation_id as attachment_conversation_id,
           a.uploader_id as attachment_uploader_id
      from m left join a on true`.execute(db);
  const row = rows[0]!;
  const attachment =
    row.attachment_conversation_id && row.attachment_uploader_id
      ? { conversationId: row.attachment_conversation_id, uploaderId: row.attachment_uploader_id }
      : null;
  return { memberIds: row.member_ids, id: row.id, at: row.at, attachment };
}

/** Takes the conversation's message lock (held to commit: call it in a transaction), as insertSent does. */
export async function lockConversationMessages(db: Db, conversationId: string): Promise<void> {
  await sql`select conversation_message_head(${conversationId}::uuid)`.execute(db);
}

export interface NewMessage {
  /** From planSend. */
  id: number;
  at: Date;
  conversationId: string;
  senderId: string;
  clientId: string;
  ciphertext: string;
  keyId: string;
  attachmentId: string | null;
}

/** What insertSent did: stored the message (and its events), found the client id used already, or refused an id that fell behind. */
export type SendWrite =
  | { kind: 'stored'; events: StoredUserEvent[] }
  | { kind: 'duplicate' }
  /** A message with a higher id committed first: storing this one would break `after` paging; draw a new id. */
  | { kind: 'stale' };

/**
 * A send's writes in one statement (atomic, one commit): the message unless this sender already
 * sent this client id here or its id is not above the conversation's newest (taken under the
 * conversation's message lock, held to commit: ids commit in increasing order), and only if it is
 * new: the conversation's last activity, the sender's read/delivered pointers (never back), its
 * audit row and its events (one user_events row per recipient, sealed by the caller, under their
 * users' stream locks: see insertUserEvents).
 */
export async function insertSent(
  db: Db,
  m: NewMessage,
  /** The send's audit entry; its record is the new message. */
  audit: Omit<AuditEntry, 'entityIds'>,
  events: ReadonlyArray<{ userId: string; type: string; ciphertext: string; keyId: string }>,
): Promise<SendWrite> {
  const { rows } = await sql<{
    head_id: number | null;
    message_id: number | null;
    id: number | null;
    user_id: string | null;
    type: string | null;
    created_at: Date | null;
    prev: number | null;
  }>`/* prepared:send-write */
    with head as (
      -- First, read by ins: the conversation's message lock (held to commit), then its newest id.
      select conversation_message_head(${m.conversationId}::uuid) as id
    ), ins as (
      insert into messages (id, conversation_id, sender_id, client_id, body_ciphertext, key_id, attachment_id, created_at)
      overriding system value
      select ${m.id}, ${m.conversationId}, ${m.senderId}, ${m.clientId}, ${m.ciphertext}, ${m.keyId}, ${m.attachmentId}::uuid, ${m.at}
        from head
       where (head.id is null or head.id < ${m.id})
         and exists (select from conversation_members where conversation_id = ${m.conversationId} and user_id = ${m.senderId})
      on conflict (conversation_id, sender_id, client_id) do nothing
      returning id, created_at
    ), touched as (
      update conversations c set last_message_at = ins.created_at from ins where c.id = ${m.conversationId} returning 1
    ), pointers as (
      update conversation_members cm
         set last_read_message_id = greatest(cm.last_read_message_id, ins.id),
             last_delivered_message_id = greatest(cm.last_delivered_message_id, ins.id)
        from ins where cm.conversation_id = ${m.conversationId} and cm.user_id = ${m.senderId} returning 1
    ), audited as (
      insert into audit_log (actor_id, action, entity_type, entity_id, ip, request_id, at)
      select ${audit.actorId}::uuid, ${audit.action}, ${audit.entityType}, ins.id::text, ${audit.ip}, ${audit.requestId}, ${audit.at}::timestamptz from ins
    ), heads as (
      -- After the row locks above (their CTEs run first when read here): the stream locks are the
      -- last a writer takes, as in a transaction's outbox, so the two orders cannot deadlock.
      select h.* from (select count(*) as n from touched) t, (select count(*) as n from pointers) p,
             lateral user_event_heads(case when t.n + p.n >= 0 then ${events.map((e) => e.userId)}::uuid[] end) h
       where exists (select from ins)
    ), stored as (${insertAfterHeads(events)}
    )
    select head.id as head_id, ins.id as message_id, s.id, s.user_id, s.type, s.created_at, ${PREVIOUS_EVENT_ID} as prev
      from head left join ins on true left join (stored s join heads h on h.head_user_id = s.user_id) on ins.id is not null order by s.id`.execute(db);
  const first = rows[0]!;
  if (first.message_id === null) return first.head_id !== null && Number(first.head_id) > m.id ? { kind: 'stale' } : { kind: 'duplicate' };
  // Identity values follow the insert order, which is `events` order.
  const stored = rows.filter((r) => r.id !== null).map((r) => ({ id: r.id!, user_id: r.user_id!, type: r.type!, created_at: r.created_at!, prev: r.prev! }));
  return { kind: 'stored', events: stored };
}

/**
 * A page of messages: `before` pages back in time (newest first), `after` forward (oldest first).
 * With `memberId`, the page is empty unless that user is a member (checked in the same statement).
 */
export async function listMessages(
  db: Db,
  conversationId: string,
  options: { before?: number | undefined; after?: number | undefined; limit: number; memberId?: string },
): Promise<MessageRow[]> {
  let query = db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId).limit(options.limit);
  const { memberId } = options;
  if (memberId !== undefined) {
    query = query.where(({ exists, selectFrom }) =>
      exists(selectFrom('conversation_members').select('user_id').where('conversation_id', '=', conversationId).where('user_id', '=', memberId)),
    );
  }
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
export async function findStaleUnread(
  db: Db,
  olderThan: Date,
  limit: number,
): Promise<Array<{ user_id: string; conversation_id: string; message_id: number }>> {
  return db
    .selectFrom('messages as msg')
    .innerJoin('conversation_members as m', 'm.conversation_id', 'msg.conversation_id')
    .select(['m.user_id', 'msg.conversation_id', (eb) => eb.fn.max('msg.id').as('message_id')])
    .whereRef('msg.sender_id', '!=', 'm.user_id')
    .whereRef('msg.id', '>', 'm.last_read_message_id')
    .where('msg.created_at', '<=', olderThan)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('notifications_sent as n')
            .select('n.user_id')
            .whereRef('n.user_id', '=', 'm.user_id')
            .where('n.kind', '=', 'unread')
            .whereRef('n.ref_id', '=', sql`msg.conversation_id::text`),
        ),
      ),
    )
    .groupBy(['m.user_id', 'msg.conversation_id'])
    .limit(limit)
    .execute()
    .then((rows) => rows.map((r) => ({ ...r, message_id: Number(r.message_id) })));
}
