import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { QualitySummary } from '../call/call.table.js';
import type { CallQualitySampleRow, CallQualitySampleTable } from './quality.table.js';
import type { Insertable } from 'kysely';

export async function insertSamples(db: Db, rows: Insertable<CallQualitySampleTable>[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto('call_quality_samples').values(rows).execute();
}

export async function findSamples(
  db: Db,
  callId: string,
  options: { trackId?: string | undefined; from?: Date | undefined; limit: number },
): Promise<CallQualitySampleRow[]> {
  let query = db.selectFrom('call_quality_samples').selectAll().where('call_id', '=', callId).orderBy('sampled_at').orderBy('id').limit(options.limit);
  if (options.trackId) query = query.where('track_id', '=', options.trackId);
  if (options.from) query = query.where('sampled_at', '>=', options.from);
  return query.execute();
}

/** The newest sample of every track of the given calls (the admin's live view). */
export async function findLatestPerTrack(db: Db, callIds: readonly string[]): Promise<CallQualitySampleRow[]> {
  if (callIds.length === 0) return [];
  return db
    .selectFrom('call_quality_samples')
    .selectAll()
    .distinctOn(['call_id', 'track_id', 'source', 'direction'])
    .where('call_id', 'in', callIds)
    .orderBy('call_id')
    .orderBy('track_id')
    .orderBy('source')
    .orderBy('direction')
    .orderBy('sampled_at', 'desc')
    .execute();
}

export async function summarize(db: Db, callId: string): Promise<QualitySummary> {
  const row = await db
    .selectFrom('call_quality_samples')
    .select([
      (eb) => eb.fn.countAll<number>().as('samples'),
      (eb) => eb.fn.min('score').as('worst_score'),
      sql<number | null>`percentile_cont(0.5) within group (order by score)`.as('median_score'),
      (eb) => eb.fn.max('loss_ratio').as('max_loss_ratio'),
      sql<number | null>`percentile_cont(0.5) within group (order by rtt_ms)`.as('median_rtt_ms'),
      (eb) => eb.fn.max('rtt_ms').as('max_rtt_ms'),
    ])
    .where('call_id', '=', callId)
    .executeTakeFirstOrThrow();
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    samples: Number(row.samples),
    worstScore: num(row.worst_score),
    medianScore: num(row.median_score),
    maxLossRatio: num(row.max_loss_ratio),
    medianRttMs: num(row.median_rtt_ms),
    maxRttMs: num(row.max_rtt_ms),
  };
}
