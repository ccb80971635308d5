import { sql, type Kysely } from 'kysely';

// API keys for third-party backends: only a SHA-256 of the secret is kept; `prefix` (shown in
// lists and in the key itself) finds the row. Revoked keys stay, for the audit trail.
const statements = [
  `create table api_keys (
    id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 120),
    prefix text not null unique,
    secret_hash text not null,
    scopes text[] not null,
    created_by uuid not null references users(id),
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz
  )`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table api_keys`.execute(db);
}
