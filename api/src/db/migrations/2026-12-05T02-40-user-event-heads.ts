import { sql, type Kysely } from 'kysely';

// The heads of some users' event streams, read under a per-user lock held to commit: a statement
// that takes it before drawing user_events ids commits each user's ids in increasing order, so a
// client that saw id N and resumes after N misses nothing, and the previous id it returns lets live
// delivery notice a gap. VOLATILE, so in READ COMMITTED its second query takes a fresh snapshot and
// sees what committed while the first waited (a single-statement function would be inlined).
// Locks are taken in key order: two statements locking the same users cannot deadlock.
// 0x75657674 ('uevt') namespaces the two-key advisory locks.
const statements = [
  `create function user_event_heads(users uuid[]) returns table (head_user_id uuid, head_id bigint)
   language sql volatile as $$
     select count(pg_advisory_xact_lock(1969583732, k.key)) from (select distinct hashtext(u::text) as key from unnest(users) u order by 1) k;
     select u.id, (select max(e.id) from user_events e where e.user_id = u.id) from (select distinct x as id from unnest(users) x) u;
   $$`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function user_event_heads(uuid[])`.execute(db);
}
