import { sql, type Kysely } from 'kysely';

// Frozen. Which store holds each attachment file ('disk' or 's3'), so files stay readable after
// the configured store changes. Null on rows written before this migration: those are read from
// the configured store, as they were before.
const statements = [`alter table attachments add column store text check (store in ('disk', 's3'))`];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

// Without the column, every file is read from the configured store again (as before this migration).
const downStatements = [`alter table attachments drop column store`];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const statement of downStatements) await sql.raw(statement).execute(db);
}
