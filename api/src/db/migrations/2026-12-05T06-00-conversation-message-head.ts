import { sql, type Kysely } from 'kysely';

// A conversation's newest message id, read under a per-conversation lock held to commit. A send
// draws its id before it writes (the id is inside the event it seals), so two sends can commit
// out of id order; a reader paging with `after` (or marking receipts up to an id) would then skip
// the earlier one for good. The write takes this lock first and stores its message only if its id
// is above the head, so each conversation's ids commit in increasing order; a send whose id fell
// behind draws a new one. VOLATILE, so in READ COMMITTED its second query takes a fresh snapshot
// and sees what committed while the first waited (as user_event_heads).
// 0x636d7367 ('cmsg') namespaces the two-key advisory locks.
const statements = [
  `create function conversation_message_head(conversation uuid) returns bigint
   language sql volatile as $$
     select pg_advisory_xact_lock(1668117351, hashtext(conversation::text));
     select max(id) from messages where conversation_id = conversation;
   $$`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function conversation_message_head(uuid)`.execute(db);
}
