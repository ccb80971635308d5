import { sql, type Kysely } from 'kysely';

// A direct conversation is two people's private history: it never gains a member (a third one
// would read all of it). The API adds members only when it creates a conversation; this trigger
// makes the database refuse it too, whatever code path tries.
const statements = [
  `create function conversation_members_direct_pair() returns trigger language plpgsql as $$
  begin
    if (select kind from conversations where id = new.conversation_id) = 'direct'
       and (select count(*) from conversation_members where conversation_id = new.conversation_id) >= 2 then
      raise exception 'a direct conversation has exactly two members' using errcode = 'check_violation';
    end if;
    return new;
  end $$`,
  `create trigger conversation_members_direct_pair before insert on conversation_members
     for each row execute function conversation_members_direct_pair()`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

const downStatements = [`drop trigger conversation_members_direct_pair on conversation_members`, `drop function conversation_members_direct_pair()`];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const statement of downStatements) await sql.raw(statement).execute(db);
}
