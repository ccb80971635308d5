import { sql, type Kysely } from 'kysely';
import type { ApiConfig } from '../config.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';

/**
 * The tables retention deletes from, with the column that dates a row. The audit log is not one
 * and never may be: it is kept (six years at least, as HIPAA's documentation retention asks).
 */
export const RETAINED_TABLES = {
  call_quality_samples: 'sampled_at',
  user_events: 'created_at',
  media_events_applied: 'applied_at',
  notifications_sent: 'sent_at',
} as const satisfies Partial<Record<keyof Database, string>>;
export type RetainedTable = keyof typeof RETAINED_TABLES;

/** Held (session-level) by the instance sweeping, so several API instances never sweep at once. */
const LOCK_KEY = 7_465_706_501;

export type RetentionPolicy = Record<RetainedTable, number>;

export function retentionPolicy(config: ApiConfig): RetentionPolicy {
  return {
    call_quality_samples: config.retentionQualitySamplesDays,
    user_events: config.retentionUserEventsDays,
    media_events_applied: config.retentionMediaEventsDays,
    notifications_sent: config.retentionNotificationsDays,
  };
}

export type RetentionRun = { result: 'skipped' } | { result: 'ok'; deleted: Record<RetainedTable, number>; seconds: number };

export interface RetentionOptions {
  db: Kysely<Database>;
  policy: RetentionPolicy;
  intervalSeconds: number;
  batchSize: number;
  metrics: Metrics;
  logger: Logger;
}

/**
 * Deletes what is older than its retention period, in batches of `batchSize` rows (short
 * transactions), every `intervalSeconds`. One instance at a time: the sweep holds a PostgreSQL
 * advisory lock on its connection; an instance that cannot take it skips the round.
 */
export class RetentionService {
  readonly #options: RetentionOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RetentionRun | undefined> | undefined;

  constructor(options: RetentionOptions) {
    this.#options = options;
    // Every table from the start, so the first deletion shows in rate() and increase().
    for (const table of Object.keys(RETAINED_TABLES)) options.metrics.retentionDeleted.inc({ table }, 0);
  }

  start(): void {
    if (this.#timer || Object.values(this.#options.policy).every((days) => days === 0)) return;
    this.#timer = setInterval(() => {
      this.#running ??= this.runOnce()
        .catch(() => undefined)
        .finally(() => (this.#running = undefined));
    }, this.#options.intervalSeconds * 1000);
    this.#timer.unref();
  }

  /** One sweep now, after the one in progress (tests and tools), as if at `now`. */
  async runNow(now?: Date): Promise<RetentionRun> {
    await this.#running;
    return this.runOnce(now);
  }

  async runOnce(now = new Date()): Promise<RetentionRun> {
    const { db, metrics, logger } = this.#options;
    const started = performance.now();
    try {
      const run = await db.connection().execute(async (connection): Promise<RetentionRun> => {
        const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${LOCK_KEY}::bigint) as locked`.execute(connection);
        if (!rows[0]?.locked) return { result: 'skipped' };
        try {
          const deleted = {} as Record<RetainedTable, number>;
          for (const table of Object.keys(RETAINED_TABLES) as RetainedTable[]) deleted[table] = await this.#sweepTable(connection, table, now);
          return { result: 'ok', deleted, seconds: (performance.now() - started) / 1000 };
        } finally {
          await sql`select pg_advisory_unlock(${LOCK_KEY}::bigint)`.execute(connection);
        }
      });
      metrics.retentionRuns.inc({ result: run.result });
      if (run.result === 'ok') {
        metrics.retentionDuration.observe(run.seconds);
        metrics.retentionLastRun.set(Date.now() / 1000);
        const total = Object.values(run.deleted).reduce((a, b) => a + b, 0);
        if (total > 0) logger.info({ deleted: run.deleted, ms: Math.round(run.seconds * 1000) }, 'retention sweep');
      }
      return run;
    } catch (err) {
      metrics.retentionRuns.inc({ result: 'failed' });
      logger.warn({ err }, 'retention sweep failed');
      throw err;
    }
  }

  async #sweepTable(db: Kysely<Database>, table: RetainedTable, now: Date): Promise<number> {
    const days = this.#options.policy[table];
    if (days === 0) return 0;
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    const column = sql.ref(RETAINED_TABLES[table]);
    // An "unread" mail's record stays while the user still has those messages unread: without it
    // the next round would mail them again about the same messages.
    const keep =
      table === 'notifications_sent'
        ? sql`and not (t.kind = 'unread' and exists (
          select 1 from conversation_members m join messages msg on msg.conversation_id = m.conversation_id
           where m.user_id = t.user_id and m.conversation_id::text = t.ref_id and msg.sender_id <> m.user_id and msg.id > m.last_read_message_id))`
        : sql``;
    let total = 0;
    for (;;) {
      const result = await sql`delete from ${sql.table(table)} where ctid in (
        select t.ctid from ${sql.table(table)} t where t.${column} < ${cutoff} ${keep} limit ${this.#options.batchSize})`.execute(db);
      const count = Number(result.numAffectedRows ?? 0);
      total += count;
      this.#options.metrics.retentionDeleted.inc({ table }, count);
      if (count < this.#options.batchSize) return total;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
