import { sql, type Kysely } from 'kysely';

// Frozen. What happened in a call, in order: lifecycle steps (invited, accepted, asked to join,
// admitted, left, ended...) and the media room's joins and leaves (a leave with reason
// 'disconnected' followed by a join is a reconnection).
const statements = [
  `create table call_timeline (
    id bigint generated always as identity primary key,
    call_id uuid not null references calls(id),
    at timestamptz not null default now(),
    user_id uuid references users(id),
    kind text not null,
    detail text
  )`,
  `create index call_timeline_call_idx on call_timeline (call_id, at, id)`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

// The timeline goes with its table.
const downStatements = [`drop table call_timeline`];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const statement of downStatements) await sql.raw(statement).execute(db);
}
