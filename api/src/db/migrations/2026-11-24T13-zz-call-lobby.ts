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
