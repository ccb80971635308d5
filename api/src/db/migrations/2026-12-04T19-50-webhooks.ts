import { sql, type Kysely } from 'kysely';

// Frozen. Outbound webhooks: endpoints an admin registers (the signing secret encrypted at rest,
// since it must be read back to sign) and one delivery row per event and endpoint, written in the
// transaction of the change it describes and sent after the commit by whichever API instance
// claims it first (FOR UPDATE SKIP LOCKED plus a lease in locked_until).
const statements = [
  `create table webhook_endpoints (
    id uuid primary key default gen_random_uuid(),
    url text not null check (length(url) between 1 and 2000),
    description text not null default '' check (length(description) <= 200),
    event_types text[] not null,
    secret_key_id text not null,
    secret_ciphertext text not null,
    created_by uuid not null references users(id),
    created_at timestamptz not null default now(),
    disabled_at timestamptz
  )`,
  `create table webhook_deliveries (
    id uuid primary key default gen_random_uuid(),
    seq bigint generated always as identity,
    endpoint_id uuid not null references webhook_endpoints(id) on delete cascade,
    event_id uuid not null,
    event_type text not null,
    payload text not null,
    status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    locked_until timestamptz,
    last_error text,
    response_status integer,
    created_at timestamptz not null default now(),
    delivered_at timestamptz
  )`,
  `create index webhook_deliveries_due on webhook_deliveries (next_attempt_at, seq) where status = 'pending'`,
  `create index webhook_deliveries_by_endpoint on webhook_deliveries (endpoint_id, created_at desc)`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table webhook_deliveries`.execute(db);
  await sql`drop table webhook_endpoints`.execute(db);
}
