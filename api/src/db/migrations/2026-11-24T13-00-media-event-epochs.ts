import { sql, type Kysely } from 'kysely';

// Media events are deduplicated per room instance: a room rebuilt after its worker died numbers its
// events from 1 again under a later epoch. Rows from before keep epoch 0 (what an older media
// server's events default to).
const statements = [
  `alter table media_events_applied add column epoch bigint not null default 0`,
  `alter table media_events_applied drop constraint media_events_applied_pkey`,
  `alter table media_events_applied add primary key (room_id, epoch, seq)`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

// Back to one key per (room, seq): of the same seq under several epochs, the latest epoch's row stays
// (it is what a media server would still retry).
const downStatements = [
  `delete from media_events_applied a using media_events_applied b where a.room_id = b.room_id and a.seq = b.seq and a.epoch < b.epoch`,
  `alter table media_events_applied drop constraint media_events_applied_pkey`,
  `alter table media_events_applied drop column epoch`,
  `alter table media_events_applied add primary key (room_id, seq)`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const statement of downStatements) await sql.raw(statement).execute(db);
}
