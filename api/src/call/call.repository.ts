import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { CallParticipantRow, CallRow, CallStatus, CallType, ParticipantStatus, QualitySummary } from './call.table.js';

export type CallParticipantWithName = CallParticipantRow & { display_name: string; user_role: 'patient' | 'doctor' | 'admin' };

/** A ringing call, or with `scheduledFor` a scheduled one (ringExpiresAt is then its missed deadline). */
export async function insertCall(
  db: Db,
  call: { type: CallType; initiatorId: string; conversationId: string; ringExpiresAt: Date; scheduledFor?: Date; title?: string | null },
): Promise<CallRow> {
  return db
    .insertInto('calls')
    .values({
      type: call.type,
      status: call.scheduledFor ? 'scheduled' : 'ringing',
      initiator_id: call.initiatorId,
      conversation_id: call.conversationId,
      ring_expires_at: call.ringExpiresAt,
      started_at: null,
      ended_at: null,
      duration_seconds: null,
      end_reason: null,
      quality_summary: null,
      scheduled_for: call.scheduledFor ?? null,
      title: call.title ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertParticipants(db: Db, callId: string, initiatorId: string, inviteeIds: readonly string[]): Promise<void> {
  const now = new Date();
  await db
    .insertInto('call_participants')
    .values([
      {
        call_id: callId,
        user_id: initiatorId,
        role: 'initiator',
        status: 'accepted',
        accepted_at: now,
        left_at: null,
        media_joined_at: null,
        media_left_at: null,
      },
      ...inviteeIds.map((id) => ({
        call_id: callId,
        user_id: id,
        role: 'invitee' as const,
        status: 'invited' as const,
        accepted_at: null,
        left_at: null,
        media_joined_at: null,
        media_left_at: null,
      })),
    ])
    .execute();
}

export async function findCall(db: Db, id: string, forUpdate = false): Promise<CallRow | undefined> {
  let query = db.selectFrom('calls').selectAll().where('id', '=', id);
  if (forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function findParticipants(db: Db, callIds: readonly string[]): Promise<CallParticipantWithName[]> {
  if (callIds.length === 0) return [];
  return (
    db
      .selectFrom('call_participants as p')
      .innerJoin('users as u', 'u.id', 'p.user_id')
      .selectAll('p')
      .select(['u.display_name', 'u.role as user_role'])
      .where('p.call_id', 'in', callIds)
      // The participants' ids as one array first: users are then read by users_pkey lookups
      // (joined on their own, the planner hashes the whole users table).
      .where('u.id', '=', (eb) =>
        eb.fn('any', [eb.fn('array', [eb.selectFrom('call_participants as q').select('q.user_id').where('q.call_id', 'in', callIds)])]),
      )
      .orderBy('p.role') // the initiator first
      .orderBy('p.invited_at')
      .orderBy('p.user_id')
      .execute()
  );
}

export async function updateCall(
  db: Db,
  id: string,
  values: Partial<Pick<CallRow, 'status' | 'started_at' | 'ended_at' | 'duration_seconds' | 'end_reason'>> & { quality_summary?: QualitySummary | null },
): Promise<void> {
  const { quality_summary, ...rest } = values;
  await db
    .updateTable('calls')
    .set({ ...rest, ...(quality_summary !== undefined ? { quality_summary: quality_summary === null ? null : JSON.stringify(quality_summary) } : {}) })
    .where('id', '=', id)
    .execute();
}

export async function updateParticipant(
  db: Db,
  callId: string,
  userId: string,
  values: Partial<Pick<CallParticipantRow, 'status' | 'accepted_at' | 'left_at' | 'media_joined_at' | 'media_left_at' | 'media_seconds'>>,
): Promise<void> {
  await db.updateTable('call_participants').set(values).where('call_id', '=', callId).where('user_id', '=', userId).execute();
}

export async function setParticipantsStatus(db: Db, callId: string, from: readonly ParticipantStatus[], to: ParticipantStatus, leftAt?: Date): Promise<void> {
  await db
    .updateTable('call_participants')
    .set({ status: to, ...(leftAt ? { left_at: leftAt } : {}) })
    .where('call_id', '=', callId)
    .where('status', 'in', from)
    .execute();
}

/** Ringing (or scheduled) calls past their deadline, locked and skipped by other sweepers (several API instances). */
export async function claimExpired(db: Db, status: 'ringing' | 'scheduled', now: Date, limit: number): Promise<CallRow[]> {
  return db
    .selectFrom('calls')
    .selectAll()
    .where('status', '=', status)
    .where('ring_expires_at', '<=', now)
    .orderBy('ring_expires_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Active calls with invitees who never answered before the ring deadline (group calls). */
export async function findActiveCallsWithExpiredInvites(db: Db, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('calls as c')
    .innerJoin('call_participants as p', 'p.call_id', 'c.id')
    .select('c.id')
    .distinct()
    .where('c.status', '=', 'active')
    // A started scheduled call never rang: its invitees may join until it ends.
    .where('c.scheduled_for', 'is', null)
    .where('c.ring_expires_at', '<=', now)
    .where('p.status', '=', 'invited')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export interface CallFilter {
  participantOf?: string | undefined;
  status?: CallStatus | undefined;
  type?: CallType | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  withParticipant?: string | undefined;
  before?: { createdAt: Date; id: string } | undefined;
  limit: number;
}

/** Call history, newest first, keyset-paginated on (created_at, id). */
export async function listCalls(db: Db, filter: CallFilter): Promise<CallRow[]> {
  let query = db.selectFrom('calls').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit);
  if (filter.participantOf) {
    const userId = filter.participantOf;
    query = query.where('id', 'in', (eb) => eb.selectFrom('call_participants').select('call_id').where('user_id', '=', userId));
  }
  if (filter.withParticipant) {
    const userId = filter.withParticipant;
    query = query.where('id', 'in', (eb) => eb.selectFrom('call_participants').select('call_id').where('user_id', '=', userId));
  }
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.type) query = query.where('type', '=', filter.type);
  if (filter.from) query = query.where('created_at', '>=', filter.from);
  if (filter.to) query = query.where('created_at', '<', filter.to);
  if (filter.before) {
    const { createdAt, id } = filter.before;
    query = query.where(sql<boolean>`(created_at, id) < (${createdAt}, ${id}::uuid)`);
  }
  return query.execute();
}

/** A user's scheduled calls not yet over (booked, or started and running), soonest first, keyset-paginated on (scheduled_for, id). */
export async function listUpcoming(db: Db, filter: { participantOf: string; after?: { at: Date; id: string } | undefined; limit: number }): Promise<CallRow[]> {
  const { participantOf, after } = filter;
  let query = db
    .selectFrom('calls')
    .selectAll()
    .where('scheduled_for', 'is not', null)
    .where('status', 'in', ['scheduled', 'active'])
    // Withdrawn invitees (declined) no longer see it.
    .where('id', 'in', (eb) => eb.selectFrom('call_participants').select('call_id').where('user_id', '=', participantOf).where('status', '<>', 'declined'))
    .orderBy('scheduled_for')
    .orderBy('id')
    .limit(filter.limit);
  if (after) query = query.where(sql<boolean>`(scheduled_for, id) > (${after.at}, ${after.id}::uuid)`);
  return query.execute();
}
