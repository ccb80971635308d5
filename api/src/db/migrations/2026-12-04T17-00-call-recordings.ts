import { sql, type Kysely } from 'kysely';

// Frozen. Call recordings (ENABLE_CALL_RECORDING) and each participant's consent or refusal per
// recording request. At most one request per call is open (asked, recording or paused) at a time.
const statements = [
  `create table call_recordings (
    id uuid primary key default gen_random_uuid(),
    call_id uuid not null references calls(id) on delete cascade,
    requested_by uuid not null references users(id),
    state text not null check (state in ('awaiting_consent', 'recording', 'paused', 'refused', 'cancelled', 'processing', 'ready', 'failed', 'deleted')),
    created_at timestamptz not null default now(),
    started_at timestamptz,
    stopped_at timestamptz,
    duration_ms integer,
    size_bytes integer,
    sha256 text,
    storage_key text,
    key_id text,
    store text check (store in ('disk', 's3')),
    gaps jsonb not null default '[]',
    manifest jsonb,
    expires_at timestamptz
  )`,
  `create index call_recordings_by_call on call_recordings (call_id, created_at)`,
  `create unique index call_recordings_one_open on call_recordings (call_id) where state in ('awaiting_consent', 'recording', 'paused')`,
  `create index call_recordings_expiring on call_recordings (expires_at) where state = 'ready'`,
  `create table call_recording_consents (
    recording_id uuid not null references call_recordings(id) on delete cascade,
    call_id uuid not null references calls(id) on delete cascade,
    user_id uuid not null references users(id),
    decision text not null check (decision in ('granted', 'refused')),
    decided_at timestamptz not null default now(),
    primary key (recording_id, user_id)
  )`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table call_recording_consents`.execute(db);
  await sql`drop table call_recordings`.execute(db);
}
