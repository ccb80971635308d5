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
