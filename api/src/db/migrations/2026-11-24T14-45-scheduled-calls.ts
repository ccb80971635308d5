import { sql, type Kysely } from 'kysely';

// Frozen. Scheduled calls (appointments): a doctor books a call for later ('scheduled': no
// ringing); it becomes 'active' when the doctor starts it, or 'missed' when nobody started it by
// ring_expires_at (scheduled_for plus the grace period at booking time).
const statements = [
  `alter table calls drop constraint calls_status_check`,
  `alter table calls add constraint calls_status_check
    check (status in ('scheduled', 'ringing', 'active', 'ended', 'missed', 'declined', 'cancelled'))`,
  `alter table calls add column scheduled_for timestamptz`,
  `alter table calls add column title text`,
  // The expiry sweeper, like calls_ringing_idx.
  `create index calls_scheduled_expiry_idx on calls (ring_expires_at) where status = 'scheduled'`,
  // Upcoming calls, soonest first, cursor on (scheduled_for, id).
  `create index calls_scheduled_for_idx on calls (scheduled_for, id) where scheduled_for is not null`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

// The older schema has no appointments: calls still scheduled become cancelled (their booking time
// and title go with the columns).
const downStatements = [
  `alter table calls drop constraint calls_status_check`,
  `update calls set status = 'cancelled', ended_at = coalesce(ended_at, now()), end_reason = coalesce(end_reason, 'not_started') where status = 'scheduled'`,
  `drop index calls_scheduled_for_idx`,
  `drop index calls_scheduled_expiry_idx`,
  `alter table calls drop column title`,
  `alter table calls drop column scheduled_for`,
  `alter table calls add constraint calls_status_check
    check (status in ('ringing', 'active', 'ended', 'missed', 'declined', 'cancelled'))`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const statement of downStatements) await sql.raw(statement).execute(db);
}
