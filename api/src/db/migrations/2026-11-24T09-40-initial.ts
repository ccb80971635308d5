import { sql, type Kysely } from 'kysely';

// Frozen: this file describes the schema as of its timestamp. Change the schema with a new file.
// One statement per entry: PGlite's extended protocol runs one statement per query.
const statements = [
  `create table users (
    id uuid primary key default gen_random_uuid(),
    email text not null,
    password_hash text not null,
    role text not null check (role in ('patient', 'doctor', 'admin')),
    display_name text not null,
    created_at timestamptz not null default now(),
    disabled_at timestamptz
  )`,
  // Login looks users up by e-mail, case-insensitively; also enforces one account per address.
  `create unique index users_email_key on users (lower(email))`,

  `create table care_relationships (
    doctor_id uuid not null references users(id),
    patient_id uuid not null references users(id),
    created_at timestamptz not null default now(),
    primary key (doctor_id, patient_id)
  )`,
  // "Who are this patient's doctors?" (the primary key serves the doctor's side).
  `create index care_relationships_patient_idx on care_relationships (patient_id)`,

  `create table refresh_tokens (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users(id),
    family_id uuid not null,
    token_hash text not null,
    created_at timestamptz not null default now(),
    last_used_at timestamptz not null default now(),
    expires_at timestamptz not null,
    revoked_at timestamptz,
    replaced_by uuid
  )`,
  // Refresh looks the presented token up by its hash.
  `create unique index refresh_tokens_hash_key on refresh_tokens (token_hash)`,
  // Revoking a whole family when a rotated token is reused.
  `create index refresh_tokens_family_idx on refresh_tokens (family_id)`,

  `create table conversations (
    id uuid primary key default gen_random_uuid(),
    kind text not null check (kind in ('direct', 'group', 'call')),
    title text,
    created_by uuid not null references users(id),
    created_at timestamptz not null default now(),
    last_message_at timestamptz
  )`,

  `create table conversation_members (
    conversation_id uuid not null references conversations(id),
    user_id uuid not null references users(id),
    joined_at timestamptz not null default now(),
    last_delivered_message_id bigint not null default 0,
    last_read_message_id bigint not null default 0,
    primary key (conversation_id, user_id)
  )`,
  // "My conversations" list (the primary key serves the members-of-a-conversation side).
  `create index conversation_members_user_idx on conversation_members (user_id)`,

  `create table attachments (
    id uuid primary key default gen_random_uuid(),
    conversation_id uuid not null references conversations(id),
    uploader_id uuid not null references users(id),
    file_name text not null,
    content_type text not null,
    size_bytes integer not null,
    sha256 text not null,
    storage_key text not null,
    key_id text not null,
    created_at timestamptz not null default now()
  )`,
  // Attachments of a conversation, newest first.
  `create index attachments_conversation_idx on attachments (conversation_id, created_at)`,

  `create table messages (
    id bigint generated always as identity primary key,
    conversation_id uuid not null references conversations(id),
    sender_id uuid not null references users(id),
    client_id uuid not null,
    body_ciphertext text not null,
    key_id text not null,
    attachment_id uuid references attachments(id),
    created_at timestamptz not null default now()
  )`,
  // Idempotent send: one message per (conversation, sender, client-generated id).
  `create unique index messages_client_id_key on messages (conversation_id, sender_id, client_id)`,
  // Message history pages (cursor = id) and unread counts (id > last_read_message_id).
  `create index messages_conversation_idx on messages (conversation_id, id)`,

  `create table message_receipts (
    message_id bigint not null references messages(id),
    user_id uuid not null references users(id),
    delivered_at timestamptz,
    read_at timestamptz,
    primary key (message_id, user_id)
  )`,

  `create table calls (
    id uuid primary key default gen_random_uuid(),
    type text not null check (type in ('video', 'voice')),
    status text not null check (status in ('ringing', 'active', 'ended', 'missed', 'declined', 'cancelled')),
    initiator_id uuid not null references users(id),
    conversation_id uuid references conversations(id),
    created_at timestamptz not null default now(),
    ring_expires_at timestamptz not null,
    started_at timestamptz,
    ended_at timestamptz,
    duration_seconds integer,
    end_reason text,
    quality_summary jsonb
  )`,
  // The ring-timeout sweeper: ringing calls past their deadline.
  `create index calls_ringing_idx on calls (ring_expires_at) where status = 'ringing'`,
  // The admin's history (newest first, cursor on (created_at, id)) and its status filter.
  `create index calls_created_idx on calls (created_at desc, id desc)`,
  `create index calls_status_created_idx on calls (status, created_at desc)`,

  `create table call_participants (
    call_id uuid not null references calls(id),
    user_id uuid not null references users(id),
    role text not null check (role in ('initiator', 'invitee')),
    status text not null check (status in ('invited', 'accepted', 'declined', 'missed', 'left')),
    invited_at timestamptz not null default now(),
    accepted_at timestamptz,
    left_at timestamptz,
    media_joined_at timestamptz,
    media_left_at timestamptz,
    media_seconds integer not null default 0,
    primary key (call_id, user_id)
  )`,
  // A user's call history (joined to calls for ordering and filters).
  `create index call_participants_user_idx on call_participants (user_id, call_id)`,

  `create table call_quality_samples (
    id bigint generated always as identity primary key,
    call_id uuid not null references calls(id),
    source text not null check (source in ('server', 'client')),
    identity text not null,
    track_id text not null,
    direction text not null check (direction in ('in', 'out')),
    kind text not null,
    sampled_at timestamptz not null,
    score real,
    bitrate_bps real not null,
    packets_lost integer not null,
    loss_ratio real,
    jitter_ms real,
    rtt_ms real,
    frames_per_second real,
    frame_width integer,
    frame_height integer
  )`,
  // Per-call and per-track series over time, and the latest sample per track.
  `create index call_quality_samples_call_idx on call_quality_samples (call_id, track_id, sampled_at)`,

  `create table media_events_applied (
    room_id text not null,
    seq integer not null,
    type text not null,
    applied_at timestamptz not null default now(),
    primary key (room_id, seq)
  )`,

  `create table presence (
    user_id uuid primary key references users(id),
    status text not null check (status in ('online', 'away', 'busy', 'in_call', 'offline')),
    manual_status text check (manual_status in ('away', 'busy')),
    connections integer not null default 0,
    in_call boolean not null default false,
    last_seen_at timestamptz,
    updated_at timestamptz not null default now()
  )`,

  `create table user_events (
    id bigint generated always as identity primary key,
    user_id uuid not null references users(id),
    type text not null,
    payload_ciphertext text not null,
    key_id text not null,
    created_at timestamptz not null default now()
  )`,
  // Catch-up after reconnect: a user's events after a cursor.
  `create index user_events_user_idx on user_events (user_id, id)`,

  `create table audit_log (
    id bigint generated always as identity primary key,
    actor_id uuid,
    action text not null,
    entity_type text not null,
    entity_id text not null,
    ip text,
    request_id text,
    at timestamptz not null default now()
  )`,
  // "Who touched this record?" and "what did this user touch?".
  `create index audit_log_entity_idx on audit_log (entity_type, entity_id, at)`,
  `create index audit_log_actor_idx on audit_log (actor_id, at)`,

  `create table notifications_sent (
    user_id uuid not null references users(id),
    kind text not null,
    ref_id text not null,
    sent_at timestamptz not null default now(),
    primary key (user_id, kind, ref_id)
  )`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

// Everything this migration created, dependants first (the data goes with it).
const downStatements = [
  `drop table notifications_sent`,
  `drop table audit_log`,
  `drop table user_events`,
  `drop table presence`,
  `drop table media_events_applied`,
  `drop table call_quality_samples`,
  `drop table call_participants`,
  `drop table calls`,
  `drop table message_receipts`,
  `drop table messages`,
  `drop table attachments`,
  `drop table conversation_members`,
  `drop table conversations`,
  `drop table refresh_tokens`,
  `drop table care_relationships`,
  `drop table users`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const statement of downStatements) await sql.raw(statement).execute(db);
}
