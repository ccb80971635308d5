import { sql, type Kysely } from 'kysely';

// Frozen. The call lobby: a patient who asks to join a running call waits ('waiting') until a
// doctor in the call admits them ('accepted') or turns them away ('denied').
const statements = [
  `alter table call_participants drop constraint call_participants_status_check`,
  `alter table call_participants add constraint call_participants_status_check
    check (status in ('invited', 'accepted', 'declined', 'missed', 'left', 'waiting', 'denied'))`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

// The older schema has no lobby: a turned-away patient reads as having declined, one still waiting
// as having left.
const downStatements = [
  `alter table call_participants drop constraint call_participants_status_check`,
  `update call_participants set status = 'declined' where status = 'denied'`,
  `update call_participants set status = 'left' where status = 'waiting'`,
  `alter table call_participants add constraint call_participants_status_check
    check (status in ('invited', 'accepted', 'declined', 'missed', 'left'))`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const statement of downStatements) await sql.raw(statement).execute(db);
}
