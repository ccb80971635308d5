import type { Insertable, Updateable } from 'kysely';
import type { Db } from '../db/database.js';
import type { CallRecordingConsentRow, CallRecordingRow, CallRecordingTable } from './recording.table.js';

const OPEN = ['awaiting_consent', 'recording', 'paused'] as const;

export async function insertRecording(db: Db, values: Insertable<CallRecordingTable>): Promise<CallRecordingRow> {
  return db.insertInto('call_recordings').values(values).returningAll().executeTakeFirstOrThrow();
}

/** The call's open recording request (asked, recording or paused), locked with `forUpdate`. */
export async function findOpenRecording(db: Db, callId: string, forUpdate = false): Promise<CallRecordingRow | undefined> {
  let query = db.selectFrom('call_recordings').selectAll().where('call_id', '=', callId).where('state', 'in', OPEN);
  if (forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function findRecording(db: Db, id: string, forUpdate = false): Promise<CallRecordingRow | undefined> {
  let query = db.selectFrom('call_recordings').selectAll().where('id', '=', id);
  if (forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** The call's recordings, newest first. */
export async function listRecordings(db: Db, callId: string): Promise<CallRecordingRow[]> {
  return db.selectFrom('call_recordings').selectAll().where('call_id', '=', callId).orderBy('created_at', 'desc').orderBy('id').execute();
}

export async function updateRecording(db: Db, id: string, values: Updateable<CallRecordingTable>): Promise<CallRecordingRow> {
  return db.updateTable('call_recordings').set(values).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Records (or changes) a participant's answer to a recording request. */
export async function upsertConsent(db: Db, row: { recording_id: string; call_id: string; user_id: string; decision: 'granted' | 'refused' }): Promise<void> {
  await db
    .insertInto('call_recording_consents')
    .values(row)
    .onConflict((oc) => oc.columns(['recording_id', 'user_id']).doUpdateSet({ decision: row.decision, decided_at: new Date() }))
    .execute();
}

export async function findConsents(db: Db, recordingIds: readonly string[]): Promise<CallRecordingConsentRow[]> {
  if (recordingIds.length === 0) return [];
  return db.selectFrom('call_recording_consents').selectAll().where('recording_id', 'in', recordingIds).orderBy('decided_at').execute();
}

/** Ready recordings whose retention ran out, at most `limit`, locked and skipped by other instances. */
export async function claimExpiredRecordings(db: Db, now: Date, limit: number): Promise<CallRecordingRow[]> {
  return db
    .selectFrom('call_recordings')
    .selectAll()
    .where('state', '=', 'ready')
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}
