import { sql, type Kysely } from 'kysely';

// Account management: one-time invitation links (a new account's first password, or a reset),
// care teams (a team's doctors see the team's patients), and an index for the audit log search
// by date alone (by actor and by record have theirs).
const up_ = [
  `create table account_invitations (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users(id),
    token_hash text not null,
    purpose text not null check (purpose in ('invite', 'reset')),
    created_by uuid references users(id),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz
  )`,
  `create unique index account_invitations_token_key on account_invitations (token_hash)`,
  `create index account_invitations_user_idx on account_invitations (user_id)`,
  `create table care_teams (
    id uuid primary key default gen_random_uuid(),
    name text not null,
    created_at timestamptz not null default now()
  )`,
  `create unique index care_teams_name_key on care_teams (lower(name))`,
  `create table care_team_doctors (
    team_id uuid not null references care_teams(id) on delete cascade,
    doctor_id uuid not null references users(id),
    primary key (team_id, doctor_id)
  )`,
  `create index care_team_doctors_doctor_idx on care_team_doctors (doctor_id)`,
  `create table care_team_patients (
    team_id uuid not null references care_teams(id) on delete cascade,
    patient_id uuid not null references users(id),
    primary key (team_id, patient_id)
  )`,
  `create index care_team_patients_patient_idx on care_team_patients (patient_id)`,
  `create index audit_log_at_idx on audit_log (at)`,
];

const down_ = [
  `drop index audit_log_at_idx`,
  `drop table care_team_patients`,
  `drop table care_team_doctors`,
  `drop table care_teams`,
  `drop table account_invitations`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of up_) await sql.raw(statement).execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const statement of down_) await sql.raw(statement).execute(db);
}
