import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../db/seed.js';
import { DATABASES, startTestApp, type TestApp } from '../testing/test-app.js';
import { RETAINED_TABLES } from './retention.service.js';

const DAY = 86_400_000;
const NOW = new Date();
const ago = (days: number): Date => new Date(NOW.getTime() - days * DAY);

describe.each(DATABASES)('retention on %s', (database) => {
  let t: TestApp;
  beforeAll(async () => {
    // Small batches: the sweep must repeat until nothing is due.
    t = await startTestApp(database, {
      retentionQualitySamplesDays: 90,
      retentionUserEventsDays: 30,
      retentionMediaEventsDays: 30,
      retentionNotificationsDays: 60,
      retentionBatchSize: 3,
    });
  });
  afterAll(async () => t?.close());

  it('deletes what is past its period in each table, keeps the rest, never touches the audit log', async () => {
    const db = t.app.db;
    const userId = async (key: string) =>
      db
        .selectFrom('users')
        .select('id')
        .where('email', '=', DEMO_USERS.find((u) => u.key === key)!.email)
        .executeTakeFirstOrThrow();
    const [alice, doctor] = [await userId('alice'), await userId('drgrey')];
    const call = await db
      .insertInto('calls')
      .values({ type: 'video', status: 'ended', initiator_id: doctor!.id, ring_expires_at: ago(200) })
      .returning('id')
      .executeTakeFirstOrThrow();
    const sample = (at: Date, n: number) => ({
      call_id: call.id,
      source: 'server' as const,
      identity: 'x',
      track_id: `t${n}`,
      direction: 'in' as const,
      kind: 'video',
      sampled_at: at,
      bitrate_bps: 1,
      packets_lost: 0,
    });
    await db
      .insertInto('call_quality_samples')
      .values([...Array.from({ length: 7 }, (_, n) => sample(ago(91 + n), n)), sample(ago(89), 99)])
      .execute();
    await sql`insert into user_events (user_id, type, payload_ciphertext, key_id, created_at)
      select ${alice!.id}, 'x', 'c', 'k1', now() - make_interval(days => d) from generate_series(28, 35) d`.execute(db);
    await sql`insert into media_events_applied (room_id, epoch, seq, type, applied_at)
      select 'room-r', 0, d, 'x', now() - make_interval(days => d) from generate_series(25, 34) d`.execute(db);
    // Notifications: an old missed-call record goes; an old "unread" record stays while its messages are still unread.
    const conversation = await db
      .selectFrom('conversation_members as a')
      .innerJoin('conversation_members as b', 'a.conversation_id', 'b.conversation_id')
      .select('a.conversation_id')
      .where('a.user_id', '=', alice!.id)
      .where('b.user_id', '=', doctor!.id)
      .executeTakeFirstOrThrow();
    await db
      .insertInto('messages')
      .values({ conversation_id: conversation.conversation_id, sender_id: doctor!.id, client_id: crypto.randomUUID(), body_ciphertext: 'c', key_id: 'k1' })
      .execute();
    // The doctor has read everything; alice has not read the doctor's message.
    await sql`update conversation_members set last_read_message_id = (select max(id) from messages where conversation_id = ${conversation.conversation_id})
      where conversation_id = ${conversation.conversation_id} and user_id = ${doctor!.id}`.execute(db);
    await db
      .insertInto('notifications_sent')
      .values([
        { user_id: alice!.id, kind: 'missed_call', ref_id: crypto.randomUUID(), sent_at: ago(61) },
        { user_id: alice!.id, kind: 'missed_call', ref_id: crypto.randomUUID(), sent_at: ago(59) },
        { user_id: alice!.id, kind: 'unread', ref_id: conversation.conversation_id, sent_at: ago(61) },
        { user_id: doctor!.id, kind: 'unread', ref_id: conversation.conversation_id, sent_at: ago(61) },
      ])
      .execute();
    // Audit rows of every age, ten years included.
    await sql`insert into audit_log (actor_id, action, entity_type, entity_id, at)
      select ${alice!.id}, 'read', 'message', d::text, now() - make_interval(days => d) from generate_series(1, 3650, 365) d`.execute(db);
    const audit = await db.selectFrom('audit_log').selectAll().orderBy('id').execute();
    const before = Object.fromEntries(await Promise.all(Object.keys(RETAINED_TABLES).map(async (table) => [table, await count(table)])));

    const run = await t.app.runRetentionNow(NOW);
    expect(run).toMatchObject({ result: 'ok', deleted: { call_quality_samples: 7, user_events: 5, media_events_applied: 4, notifications_sent: 2 } });
    if (run.result !== 'ok') return;
    for (const [table, deleted] of Object.entries(run.deleted)) expect(await count(table), table).toBe(before[table]! - deleted);
    expect(await db.selectFrom('notifications_sent').select(['user_id', 'kind']).where('sent_at', '<', ago(60)).execute()).toEqual([
      { user_id: alice!.id, kind: 'unread' },
    ]);
    expect(await db.selectFrom('audit_log').selectAll().orderBy('id').execute()).toEqual(audit);
    expect(Object.keys(RETAINED_TABLES)).not.toContain('audit_log');
    expect(await t.app.runRetentionNow(NOW)).toMatchObject({
      result: 'ok',
      deleted: { call_quality_samples: 0, user_events: 0, media_events_applied: 0, notifications_sent: 0 },
    });

    const metrics = await t.app.metrics.registry.metrics();
    expect(metrics).toContain('telemed_api_retention_deleted_rows_total{table="call_quality_samples"} 7');
    expect(metrics).toContain('telemed_api_retention_deleted_rows_total{table="notifications_sent"} 2');
    expect(metrics).toContain('telemed_api_retention_runs_total{result="ok"} 2');
    expect(metrics).toMatch(/telemed_api_retention_run_duration_seconds_count 2/);
    expect(metrics).toMatch(/telemed_api_retention_last_success_timestamp_seconds \d{10}/);
  });

  it('one sweeper at a time: a round finds the lock held elsewhere and skips', async () => {
    if (database === 'pglite') return; // one process owns an embedded database
    const other = new pg.Client({ connectionString: t.app.config.databaseUrl });
    await other.connect();
    try {
      await other.query('select pg_advisory_lock(7465706501::bigint)');
      expect(await t.app.runRetentionNow(NOW)).toEqual({ result: 'skipped' });
      expect(await t.app.metrics.registry.metrics()).toContain('telemed_api_retention_runs_total{result="skipped"} 1');
      await other.query('select pg_advisory_unlock(7465706501::bigint)');
      expect(await t.app.runRetentionNow(NOW)).toMatchObject({ result: 'ok' });
    } finally {
      await other.end();
    }
  });

  async function count(table: string): Promise<number> {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(t.app.db);
    return rows[0]!.n;
  }
});
