import type { Call, RoomAccess } from '@telemed/sdk';
import type { ParticipantReconnect } from '@telemed/sdk/protocol';
import type { Db } from '../db/database.js';
import type { Outbox } from '../events/outbox.js';
import { ApiError } from '../http/errors.js';
import type { AuthUser } from '../http/route.js';
import type { Logger } from '../logger.js';
import { encodeTimeIdCursor, type TimeIdCursor } from '../http/input.schema.js';
import type { MediaPlacement } from '../media-node/media-placement.js';
import type { PresenceService } from '../presence/presence.service.js';
import { summarize } from '../quality/quality.repository.js';
import { issueRoomToken } from '../room-token/room-token.service.js';
import { turnCredentials } from '../room-token/turn-credentials.service.js';
import { assertContacts } from '../user/user.service.js';
import { findUserById } from '../user/user.repository.js';
import { findMemberIds, insertConversation } from '../conversation/conversation.repository.js';
import {
  claimExpired,
  findActiveCallsWithExpiredInvites,
  findCall,
  findParticipants,
  insertCall,
  insertParticipants,
  listCalls,
  listUpcoming,
  setParticipantsStatus,
  updateCall,
  updateParticipant,
  type CallFilter,
  type CallParticipantWithName,
} from './call.repository.js';
import type { CallRow, CallType, ParticipantStatus } from './call.table.js';
import { recordTimeline } from './call-timeline.repository.js';
import { endStay, inMediaRoom, reconnectDetail, toCall } from './call.mapper.js';
import { webhookCall } from '../webhook/webhook.service.js';

export interface CallSettings {
  callTimeoutSeconds: number;
  scheduledCallStartWindowSeconds: number;
  scheduledCallGraceSeconds: number;
  roomTokenSecret: string;
  roomTokenTtlSeconds: number;
  turnUrls: readonly string[];
  turnSecret?: string | undefined;
  turnTtlSeconds?: number | undefined;
}

/** How a call stops (every way: hung up, cancelled, declined, missed). */
interface Ending {
  status: 'ended' | 'cancelled' | 'declined' | 'missed';
  reason: string;
  at: Date;
  /** The timeline step saying so; none when the step that caused it is recorded already (the last decline). */
  step?: { kind: string; userId?: string; detail?: string };
  /** Who was still asked and is now missed; `[]` leaves the invitees of a cancelled booking as they were. */
  missed: readonly ParticipantStatus[];
  /** The event every participant gets; none when the caller sends its own (a decline names who declined). */
  notify?: 'call.cancelled' | 'call.ended' | 'call.missed';
}

/** How far ahead a call may be booked. */
export const MAX_SCHEDULE_AHEAD_DAYS = 90;

/**
 * The call lifecycle: ringing → active → ended, or missed / declined / cancelled. A scheduled
 * call waits (no ringing) until its doctor starts it (→ active), is cancelled, or is missed.
 */
export interface CallServiceOptions {
  settings: CallSettings;
  placement: Pick<MediaPlacement, 'place'>;
  /** In-call presence follows the call, after each change commits. */
  presence: Pick<PresenceService, 'change'>;
  logger: Logger;
}

/** Work that follows a committed change of a call (the recording consent rule). */
export type CallChangeListener = (call: Call) => Promise<void>;

/**
 * The only writer of a call's state: the lifecycle steps, the media room's joins and leaves, the
 * ring timeout. Each change queues, on the transaction's outbox, the events for the participants
 * and the work that must wait for the commit (presence, listeners).
 */
export class CallService {
  readonly #settings: CallSettings;
  readonly #placement: Pick<MediaPlacement, 'place'>;
  readonly #presence: Pick<PresenceService, 'change'>;
  readonly #logger: Logger;
  readonly #listeners: CallChangeListener[] = [];

  constructor(options: CallServiceOptions) {
    this.#settings = options.settings;
    this.#placement = options.placement;
    this.#presence = options.presence;
    this.#logger = options.logger;
  }

  /** Runs `listener` after every committed change of a call. */
  onCallChanged(listener: CallChangeListener): void {
    this.#listeners.push(listener);
  }

  /**
   * After the commit: accepted participants of an active call are in_call, everyone else not; then
   * the listeners. A failure there is logged: the change itself is committed and stands.
   */
  #changed(outbox: Outbox, call: Call): void {
    outbox.afterCommit(async () => {
      try {
        for (const p of call.participants) await this.#presence.change(p.userId, { inCall: call.status === 'active' && p.status === 'accepted' });
        for (const listener of this.#listeners) await listener(call);
      } catch (err) {
        this.#logger.warn({ err, callId: call.id }, 'work after a call change failed');
      }
    });
  }

  async load(db: Db, id: string): Promise<Call> {
    const row = await findCall(db, id);
    if (!row) throw new ApiError('NOT_FOUND', 'no such call');
    return toCall(row, await findParticipants(db, [id]), this.#settings.scheduledCallStartWindowSeconds);
  }

  /** A call the user takes part in (or any call for an admin); 404 otherwise, so ids don't leak. */
  async loadVisible(db: Db, user: AuthUser, id: string): Promise<Call> {
    const call = await this.load(db, id);
    if (user.role !== 'admin' && !call.participants.some((p) => p.userId === user.id)) throw new ApiError('NOT_FOUND', 'no such call');
    return call;
  }

  async initiate(trx: Db, outbox: Outbox, user: AuthUser, input: { type: CallType; inviteeIds: string[]; conversationId?: string | undefined }): Promise<Call> {
    const inviteeIds = (await assertContacts(trx, user, input.inviteeIds)).map((u) => u.id);
    const conversationId = await this.#conversationFor(trx, user, inviteeIds, input.conversationId, null);
    const row = await insertCall(trx, {
      type: input.type,
      initiatorId: user.id,
      conversationId,
      ringExpiresAt: new Date(Date.now() + this.#settings.callTimeoutSeconds * 1000),
    });
    await insertParticipants(trx, row.id, user.id, inviteeIds);
    await recordTimeline(trx, [
      { callId: row.id, kind: 'created', userId: user.id, detail: input.type },
      ...inviteeIds.map((userId) => ({ callId: row.id, kind: 'invited', userId })),
    ]);
    const call = await this.load(trx, row.id);
    outbox.add([user.id, ...inviteeIds], 'call.ringing', { call });
    this.#changed(outbox, call);
    outbox.webhook('call.created', { call: webhookCall(call) });
    outbox.webhook('call.ringing', { call: webhookCall(call) });
    return call;
  }

  /**
   * Every call gets a conversation for what is written during it, whose members are exactly the
   * call's participants: a given one (the caller's, with exactly these members, e.g. the direct
   * conversation with the one invitee) or a new `call` conversation. A call never adds members to
   * an existing conversation: they would read its whole history.
   */
  async #conversationFor(trx: Db, user: AuthUser, inviteeIds: string[], conversationId: string | undefined, title: string | null): Promise<string> {
    const participants = [user.id, ...inviteeIds];
    if (conversationId) {
      const members = await findMemberIds(trx, conversationId);
      if (!members.includes(user.id)) throw new ApiError('NOT_FOUND', 'no such conversation');
      const same = members.length === new Set(participants).size && participants.every((id) => members.includes(id));
      if (!same) {
        throw new ApiError(
          'FORBIDDEN',
          "a call's conversation must have exactly the call's participants as members; leave conversationId out to get a new one",
          [{ path: 'conversationId', message: "members differ from the call's participants" }],
        );
      }
      return conversationId;
    }
    return (await insertConversation(trx, { kind: 'call', title, createdBy: user.id, memberIds: participants })).id;
  }

  /**
   * A doctor books a call with contacts for later: no ringing; the doctor starts it from
   * SCHEDULED_CALL_START_WINDOW before its time; nobody started it SCHEDULED_CALL_GRACE after → missed.
   */
  async schedule(
    trx: Db,
    outbox: Outbox,
    user: AuthUser,
    input: { type: CallType; inviteeIds: string[]; scheduledFor: Date; title?: string | undefined },
  ): Promise<Call> {
    const at = input.scheduledFor.getTime();
    const now = Date.now();
    if (at <= now) throw new ApiError('VALIDATION_FAILED', 'scheduledFor must be in the future', [{ path: 'scheduledFor', message: 'in the past' }]);
    if (at > now + MAX_SCHEDULE_AHEAD_DAYS * 86_400_000)
      throw new ApiError('VALIDATION_FAILED', `scheduledFor must be within ${MAX_SCHEDULE_AHEAD_DAYS} days`, [
        { path: 'scheduledFor', message: 'too far ahead' },
      ]);
    const inviteeIds = (await assertContacts(trx, user, input.inviteeIds)).map((u) => u.id);
    const title = input.title?.trim() || null;
    const conversationId = await this.#conversationFor(trx, user, inviteeIds, undefined, title);
    const ringExpiresAt = new Date(at + this.#settings.scheduledCallGraceSeconds * 1000);
    const row = await insertCall(trx, { type: input.type, initiatorId: user.id, conversationId, ringExpiresAt, scheduledFor: input.scheduledFor, title });
    await insertParticipants(trx, row.id, user.id, inviteeIds);
    await recordTimeline(trx, [
      { callId: row.id, kind: 'scheduled', userId: user.id, detail: `${input.type} ${input.scheduledFor.toISOString()}` },
      ...inviteeIds.map((userId) => ({ callId: row.id, kind: 'invited', userId })),
    ]);
    const call = await this.load(trx, row.id);
    outbox.add([user.id, ...inviteeIds], 'call.scheduled', { call });
    this.#changed(outbox, call);
    outbox.webhook('call.created', { call: webhookCall(call) });
    return call;
  }

  /** The doctor who booked a scheduled call starts it: active, with their room token; patients waiting already are shown to them again. */
  async start(trx: Db, outbox: Outbox, user: AuthUser, id: string): Promise<{ call: Call; access: RoomAccess }> {
    const row = await this.#lockParticipantCall(trx, user, id);
    if (row.initiator_id !== user.id) throw new ApiError('FORBIDDEN', 'only the doctor who scheduled the call can start it');
    if (row.status !== 'scheduled') throw new ApiError('CONFLICT', `the call is ${row.status}`);
    this.#assertOpen(row);
    const now = new Date();
    await updateCall(trx, id, { status: 'active', started_at: now });
    await recordTimeline(trx, [{ callId: id, kind: 'started', userId: user.id, at: now }]);
    const call = await this.load(trx, id);
    outbox.add(
      call.participants.map((p) => p.userId),
      'call.started',
      { call },
    );
    outbox.webhook('call.started', { call: webhookCall(call) });
    for (const p of call.participants) if (p.status === 'waiting') outbox.add([user.id], 'call.admission_requested', { call, userId: p.userId });
    this.#changed(outbox, call);
    return { call, access: await this.roomAccess(trx, user.id, call) };
  }

  /** A scheduled call opens SCHEDULED_CALL_START_WINDOW before its time. */
  #assertOpen(row: CallRow): void {
    const opensAt = row.scheduled_for!.getTime() - this.#settings.scheduledCallStartWindowSeconds * 1000;
    if (Date.now() < opensAt)
      throw new ApiError(
        'CONFLICT',
        `the call is scheduled for ${row.scheduled_for!.toISOString()}; it opens at ${new Date(opensAt).toISOString()} (see opensAt)`,
      );
  }

  /** Upcoming calls of a user: booked, or started and not over; soonest first. */
  async upcoming(db: Db, userId: string, options: { cursor?: TimeIdCursor | undefined; limit: number }): Promise<{ items: Call[]; nextCursor: string | null }> {
    const rows = await listUpcoming(db, { participantOf: userId, after: options.cursor, limit: options.limit + 1 });
    return this.#page(db, rows, options.limit, (r) => encodeTimeIdCursor(r.scheduled_for!, r.id));
  }

  async #page(db: Db, rows: CallRow[], limit: number, cursorOf: (row: CallRow) => string): Promise<{ items: Call[]; nextCursor: string | null }> {
    const page = rows.slice(0, limit);
    const participants = await findParticipants(
      db,
      page.map((r) => r.id),
    );
    return {
      items: page.map((r) => toCall(r, participants, this.#settings.scheduledCallStartWindowSeconds)),
      nextCursor: rows.length > limit ? cursorOf(page[page.length - 1]!) : null,
    };
  }

  async accept(trx: Db, outbox: Outbox, user: AuthUser, id: string): Promise<{ call: Call; access: RoomAccess }> {
    const row = await this.#lockParticipantCall(trx, user, id);
    const me = (await findParticipants(trx, [id])).find((p) => p.user_id === user.id)!;
    if (row.status !== 'ringing' && row.status !== 'active') throw new ApiError('CONFLICT', `the call is ${row.status}`);
    if (me.status === 'accepted') throw new ApiError('CONFLICT', 'you have already accepted this call');
    if (me.status !== 'invited') throw new ApiError('CONFLICT', `you have ${me.status} this call; join it instead`);
    return this.#admit(trx, outbox, user.id, row, 'accepted');
  }

  /**
   * Joins a running call after leaving, missing or declining it. Doctors walk in; a patient waits
   * in the lobby (access null) until a doctor in the call admits them, like a clinic's waiting room.
   */
  async join(trx: Db, outbox: Outbox, user: AuthUser, id: string): Promise<{ call: Call; access: RoomAccess | null }> {
    const row = await this.#lockParticipantCall(trx, user, id);
    if (row.status === 'scheduled') {
      // Before the doctor starts it, everyone invited waits in the lobby (from the start window on).
      if (row.initiator_id === user.id) throw new ApiError('CONFLICT', 'the call is scheduled; start it instead');
      this.#assertOpen(row);
    } else if (row.status !== 'active')
      throw new ApiError('CONFLICT', row.status === 'ringing' ? 'the call is still ringing; accept it' : `the call is ${row.status}`);
    const participants = await findParticipants(trx, [id]);
    const me = participants.find((p) => p.user_id === user.id)!;
    if (me.status === 'accepted') throw new ApiError('CONFLICT', 'you are in this call already; ask for a room token');
    if (user.role === 'doctor' && row.status === 'active') return this.#admit(trx, outbox, user.id, row, 'joined');
    if (me.status !== 'waiting') {
      await updateParticipant(trx, id, user.id, { status: 'waiting' });
      await recordTimeline(trx, [{ callId: id, kind: 'asked', userId: user.id }]);
    }
    const call = await this.load(trx, id);
    outbox.add(await this.#doctorsIn(trx, id), 'call.admission_requested', { call, userId: user.id });
    this.#changed(outbox, call);
    return { call, access: null };
  }

  /** A doctor in the call lets a waiting participant in; they get their room token from /token. */
  async admit(trx: Db, outbox: Outbox, user: AuthUser, id: string, userId: string): Promise<Call> {
    const row = await this.#lockAdmittingCall(trx, user, id, userId);
    return (await this.#admit(trx, outbox, userId, row, 'admitted', user.id)).call;
  }

  /** A doctor in the call turns a waiting participant away; they are told and may ask again. */
  async deny(trx: Db, outbox: Outbox, user: AuthUser, id: string, userId: string): Promise<Call> {
    await this.#lockAdmittingCall(trx, user, id, userId);
    await updateParticipant(trx, id, userId, { status: 'denied' });
    await recordTimeline(trx, [{ callId: id, kind: 'denied', userId, detail: user.id }]);
    const call = await this.load(trx, id);
    outbox.add([userId, ...(await this.#doctorsIn(trx, id))], 'call.admission_denied', { call, userId });
    this.#changed(outbox, call);
    return call;
  }

  /** Only an accepted doctor of the active call may decide, and only about someone waiting. */
  async #lockAdmittingCall(trx: Db, user: AuthUser, id: string, userId: string): Promise<CallRow> {
    const row = await this.#lockParticipantCall(trx, user, id);
    const participants = await findParticipants(trx, [id]);
    const me = participants.find((p) => p.user_id === user.id)!;
    if (user.role !== 'doctor' || me.status !== 'accepted') throw new ApiError('FORBIDDEN', 'only a doctor in the call can admit or deny');
    if (row.status !== 'active') throw new ApiError('CONFLICT', `the call is ${row.status}`);
    const target = participants.find((p) => p.user_id === userId);
    if (!target) throw new ApiError('NOT_FOUND', 'no such participant');
    if (target.status !== 'waiting') throw new ApiError('CONFLICT', `the participant is ${target.status}, not waiting`);
    return row;
  }

  async #doctorsIn(db: Db, callId: string): Promise<string[]> {
    return (await findParticipants(db, [callId])).filter((p) => p.status === 'accepted' && p.user_role === 'doctor').map((p) => p.user_id);
  }

  /** Puts a participant in the call; `by` is the doctor who admitted them from the lobby. */
  async #admit(
    trx: Db,
    outbox: Outbox,
    userId: string,
    row: CallRow,
    kind: 'accepted' | 'joined' | 'admitted',
    by?: string,
  ): Promise<{ call: Call; access: RoomAccess }> {
    const now = new Date();
    await updateParticipant(trx, row.id, userId, { status: 'accepted', accepted_at: now, left_at: null });
    await recordTimeline(trx, [{ callId: row.id, kind, userId, detail: by ?? null, at: now }]);
    if (row.status === 'ringing') await updateCall(trx, row.id, { status: 'active', started_at: now });
    const call = await this.load(trx, row.id);
    outbox.add(
      call.participants.map((p) => p.userId),
      'call.accepted',
      { call, userId },
    );
    this.#changed(outbox, call);
    if (row.status === 'ringing') outbox.webhook('call.started', { call: webhookCall(call) });
    outbox.webhook('call.participant_joined', { call: webhookCall(call), userId });
    return { call, access: await this.roomAccess(trx, userId, call) };
  }

  async decline(trx: Db, outbox: Outbox, user: AuthUser, id: string): Promise<Call> {
    const row = await this.#lockParticipantCall(trx, user, id);
    const participants = await findParticipants(trx, [id]);
    const me = participants.find((p) => p.user_id === user.id)!;
    if (me.status !== 'invited' || (row.status !== 'ringing' && row.status !== 'active')) throw new ApiError('CONFLICT', 'there is nothing to decline');
    await updateParticipant(trx, id, user.id, { status: 'declined' });
    await recordTimeline(trx, [{ callId: id, kind: 'declined', userId: user.id }]);
    const stillInvited = participants.some((p) => p.user_id !== user.id && p.role === 'invitee' && (p.status === 'invited' || p.status === 'accepted'));
    const call =
      row.status === 'ringing' && !stillInvited
        ? await this.#close(trx, outbox, row, { status: 'declined', reason: 'declined', at: new Date(), missed: [] })
        : await this.load(trx, id);
    outbox.add(
      call.participants.map((p) => p.userId),
      'call.declined',
      { call, userId: user.id },
    );
    if (call.status !== 'declined') this.#changed(outbox, call);
    return call;
  }

  async cancel(trx: Db, outbox: Outbox, user: AuthUser, id: string): Promise<Call> {
    const row = await this.#lockParticipantCall(trx, user, id);
    if (row.status === 'scheduled') return this.#cancelScheduled(trx, outbox, user, row);
    if (row.initiator_id !== user.id) throw new ApiError('FORBIDDEN', 'only the caller can cancel a call');
    if (row.status !== 'ringing') throw new ApiError('CONFLICT', `the call is ${row.status}`);
    const call = await this.#close(trx, outbox, row, {
      status: 'cancelled',
      reason: 'cancelled',
      at: new Date(),
      step: { kind: 'cancelled', userId: user.id },
      missed: ['invited'],
      notify: 'call.cancelled',
    });
    return call;
  }

  /**
   * Either side cancels a booked call. The doctor cancels it for everyone; an invitee withdraws
   * (declined), which cancels the call when nobody else invited is left.
   */
  async #cancelScheduled(trx: Db, outbox: Outbox, user: AuthUser, row: CallRow): Promise<Call> {
    const now = new Date();
    const participants = await findParticipants(trx, [row.id]);
    const othersInvited = participants.some((p) => p.role === 'invitee' && p.user_id !== user.id && p.status !== 'declined');
    if (row.initiator_id !== user.id && othersInvited) {
      await updateParticipant(trx, row.id, user.id, { status: 'declined', left_at: now });
      await recordTimeline(trx, [{ callId: row.id, kind: 'declined', userId: user.id, at: now }]);
      const call = await this.load(trx, row.id);
      outbox.add(
        call.participants.map((p) => p.userId),
        'call.declined',
        { call, userId: user.id },
      );
      this.#changed(outbox, call);
      return call;
    }
    const call = await this.#close(trx, outbox, row, {
      status: 'cancelled',
      reason: 'cancelled',
      at: now,
      step: { kind: 'cancelled', userId: user.id },
      missed: [],
      notify: 'call.cancelled',
    });
    return call;
  }

  /** Leaves a call; the call ends when its last accepted participant leaves. */
  async leave(trx: Db, outbox: Outbox, user: AuthUser, id: string): Promise<Call> {
    const row = await this.#lockParticipantCall(trx, user, id);
    if (row.status === 'scheduled') return this.#leaveEarlyLobby(trx, outbox, user, row);
    if (row.status !== 'active') throw new ApiError('CONFLICT', `the call is ${row.status}`);
    const me = (await findParticipants(trx, [id])).find((p) => p.user_id === user.id)!;
    // In the call or waiting in its lobby; an invitee who never came (or already left) has nothing to leave.
    if (me.status !== 'accepted' && me.status !== 'waiting') throw new ApiError('CONFLICT', `you are not in this call (you are ${me.status})`);
    await updateParticipant(trx, id, user.id, { status: 'left', left_at: new Date() });
    await recordTimeline(trx, [{ callId: id, kind: 'left', userId: user.id }]);
    const remaining = (await findParticipants(trx, [id])).filter((p) => p.status === 'accepted');
    const call = await this.load(trx, id);
    if (me.status === 'accepted') outbox.webhook('call.participant_left', { call: webhookCall(call), userId: user.id });
    if (remaining.length <= 1) return this.finish(trx, outbox, row, 'hangup');
    outbox.add(
      call.participants.map((p) => p.userId),
      'call.participant_left',
      { call, userId: user.id },
    );
    this.#changed(outbox, call);
    return call;
  }

  /** Leaving the waiting room of a scheduled call not started yet: invited again, as before asking. */
  async #leaveEarlyLobby(trx: Db, outbox: Outbox, user: AuthUser, row: CallRow): Promise<Call> {
    const me = (await findParticipants(trx, [row.id])).find((p) => p.user_id === user.id)!;
    if (me.status !== 'waiting') throw new ApiError('CONFLICT', 'the call is scheduled; cancel it instead');
    await updateParticipant(trx, row.id, user.id, { status: 'invited' });
    await recordTimeline(trx, [{ callId: row.id, kind: 'left', userId: user.id }]);
    const call = await this.load(trx, row.id);
    this.#changed(outbox, call);
    return call;
  }

  /** Ends the call for everyone (any accepted participant may hang up). */
  async end(trx: Db, outbox: Outbox, user: AuthUser, id: string): Promise<Call> {
    const row = await this.#lockParticipantCall(trx, user, id);
    const me = (await findParticipants(trx, [id])).find((p) => p.user_id === user.id)!;
    if (row.status === 'ringing' && row.initiator_id === user.id) return this.cancel(trx, outbox, user, id);
    if (row.status !== 'active') throw new ApiError('CONFLICT', `the call is ${row.status}`);
    if (me.status !== 'accepted') throw new ApiError('FORBIDDEN', 'only a participant in the call can end it');
    return this.finish(trx, outbox, row, 'hangup');
  }

  /** Ends an active call: duration, participants left, quality summary stored. */
  async finish(trx: Db, outbox: Outbox, row: CallRow, reason: string): Promise<Call> {
    const call = await this.#close(trx, outbox, row, {
      status: 'ended',
      reason,
      at: new Date(),
      step: { kind: 'ended', detail: reason },
      missed: ['invited', 'waiting'],
      notify: 'call.ended',
    });
    return call;
  }

  /**
   * Ends a call for a third-party backend (API key): an active call finishes, a ringing or
   * scheduled one is cancelled; an ended one is a conflict.
   */
  async endAsService(trx: Db, outbox: Outbox, id: string): Promise<Call> {
    const row = await findCall(trx, id, true);
    if (!row) throw new ApiError('NOT_FOUND', 'no such call');
    if (row.status === 'active') return this.finish(trx, outbox, row, 'ended_by_service');
    if (row.status !== 'ringing' && row.status !== 'scheduled') throw new ApiError('CONFLICT', `the call is ${row.status}`);
    const call = await this.#close(trx, outbox, row, {
      status: 'cancelled',
      reason: 'cancelled',
      at: new Date(),
      step: { kind: 'cancelled', detail: 'service' },
      missed: ['invited', 'waiting'],
      notify: 'call.cancelled',
    });
    return call;
  }

  /**
   * The one way a call stops: its status and end, a timeline step, everyone in it left, whoever
   * was still asked missed; an ended call also gets its duration and quality summary. Everyone in
   * it is told (`notify`), and the backend's webhook says `call.ended` whatever the outcome.
   */
  async #close(trx: Db, outbox: Outbox, row: CallRow, ending: Ending): Promise<Call> {
    const { status, reason, at } = ending;
    if (status === 'ended') {
      const duration = row.started_at ? Math.max(0, Math.round((at.getTime() - row.started_at.getTime()) / 1000)) : 0;
      await updateCall(trx, row.id, { status, ended_at: at, end_reason: reason, duration_seconds: duration, quality_summary: await summarize(trx, row.id) });
    } else {
      await updateCall(trx, row.id, { status, ended_at: at, end_reason: reason });
    }
    if (ending.step) await recordTimeline(trx, [{ callId: row.id, ...ending.step, at }]);
    await setParticipantsStatus(trx, row.id, ['accepted'], 'left', at);
    if (ending.missed.length > 0) await setParticipantsStatus(trx, row.id, ending.missed, 'missed');
    const call = await this.load(trx, row.id);
    this.#changed(outbox, call);
    if (ending.notify)
      outbox.add(
        call.participants.map((p) => p.userId),
        ending.notify,
        { call },
      );
    outbox.webhook('call.ended', { call: webhookCall(call) });
    return call;
  }

  /** The media server says a participant entered the call's room; undefined for someone not in the call. */
  async mediaJoined(trx: Db, outbox: Outbox, row: CallRow, userId: string, at: Date): Promise<Call | undefined> {
    if (!(await this.#participant(trx, row.id, userId))) return undefined;
    await updateParticipant(trx, row.id, userId, { media_joined_at: at });
    await recordTimeline(trx, [{ callId: row.id, kind: 'media_joined', userId, at }]);
    const call = await this.load(trx, row.id);
    outbox.add(
      call.participants.map((p) => p.userId),
      'call.participant_joined',
      { call, userId },
    );
    this.#changed(outbox, call);
    return call;
  }

  /** The media server says a participant left the call's room: their stay is added to their media seconds. */
  async mediaLeft(trx: Db, outbox: Outbox, row: CallRow, userId: string, reason: string, at: Date): Promise<Call | undefined> {
    const p = await this.#participant(trx, row.id, userId);
    if (!p) return undefined;
    await updateParticipant(trx, row.id, userId, endStay(p, at));
    await recordTimeline(trx, [{ callId: row.id, kind: 'media_left', userId, detail: reason, at }]);
    const call = await this.load(trx, row.id);
    outbox.add(
      call.participants.map((p) => p.userId),
      'call.participant_left',
      { call, userId },
    );
    this.#changed(outbox, call);
    return call;
  }

  /**
   * Back without leaving the room (socket resumed, or media path back after ICE restarts): a
   * timeline step only; the stay in the room goes on. False for someone not in the call.
   */
  async mediaReconnected(trx: Db, row: CallRow, userId: string, reconnect: ParticipantReconnect, at: Date): Promise<boolean> {
    if (!(await this.#participant(trx, row.id, userId))) return false;
    await recordTimeline(trx, [{ callId: row.id, kind: 'reconnected', userId, detail: reconnectDetail(reconnect), at }]);
    return true;
  }

  async #participant(db: Db, callId: string, userId: string): Promise<CallParticipantWithName | undefined> {
    return (await findParticipants(db, [callId])).find((p) => p.user_id === userId);
  }

  /** A fresh room token for an accepted participant of an active call. */
  async roomAccess(db: Db, userId: string, call: Call): Promise<RoomAccess> {
    const me = call.participants.find((p) => p.userId === userId);
    if (!me || me.status !== 'accepted' || call.status !== 'active')
      throw new ApiError('FORBIDDEN', 'only accepted participants of an active call get a room token');
    const user = await findUserById(db, userId);
    if (!user) throw new ApiError('NOT_FOUND', 'no such user');
    // A disabled account cannot sign in, but a backend may ask for it; the media server refuses only the tokens issued before.
    if (user.disabled_at) throw new ApiError('FORBIDDEN', 'the account is disabled');
    const { roomTokenSecret, roomTokenTtlSeconds } = this.#settings;
    const placement = await this.#placement.place(call.id);
    if (placement.movedFrom) await this.#recordMove(db, call, placement.movedFrom, placement.nodeId);
    const token = issueRoomToken(roomTokenSecret, {
      room: call.id,
      identity: user.id,
      name: user.display_name,
      grants: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: user.role === 'doctor' },
      ttlSeconds: roomTokenTtlSeconds,
      ...(call.startedAt ? { roomStartedAt: new Date(call.startedAt) } : {}),
    });
    const iceServers = turnCredentials(this.#settings, user.id, roomTokenTtlSeconds);
    return { callId: call.id, room: call.id, token, url: placement.url, expiresIn: roomTokenTtlSeconds, iceServers };
  }

  /**
   * Room access for a participant, asked for by a backend with an API key (which sees every call):
   * 404 for an unknown call, 403 for someone not in it, 409 unless it is active.
   */
  async roomAccessAsService(db: Db, id: string, userId: string): Promise<RoomAccess> {
    const call = await this.load(db, id);
    if (!call.participants.some((p) => p.userId === userId)) throw new ApiError('FORBIDDEN', 'the user is not a participant of this call');
    if (call.status !== 'active') throw new ApiError('CONFLICT', `the call is ${call.status}`);
    return this.roomAccess(db, userId, call);
  }

  /**
   * The call's media node was lost and its room placed on another: a `moved` timeline step, and the
   * stays in the lost room end now (that node can no longer say so); the new node's joins start new ones.
   */
  async #recordMove(db: Db, call: Call, from: string, to: string | null): Promise<void> {
    const now = new Date();
    await recordTimeline(db, [{ callId: call.id, kind: 'moved', detail: JSON.stringify({ from, to, reason: 'node_lost' }), at: now }]);
    for (const p of await findParticipants(db, [call.id])) {
      if (inMediaRoom(p)) await updateParticipant(db, call.id, p.user_id, endStay(p, now));
    }
  }

  /**
   * Ring timeout: ringing calls nobody accepted become missed; unanswered invitees of running calls
   * too. Scheduled calls nobody started by their time plus SCHEDULED_CALL_GRACE are missed as well.
   */
  async sweep(trx: Db, outbox: Outbox, now = new Date()): Promise<Call[]> {
    const changed: Call[] = [];
    const expired = [...(await claimExpired(trx, 'ringing', now, 100)), ...(await claimExpired(trx, 'scheduled', now, 100))];
    for (const row of expired) {
      const reason = row.status === 'scheduled' ? 'not_started' : 'timeout';
      const call = await this.#close(trx, outbox, row, {
        status: 'missed',
        reason,
        at: now,
        step: { kind: 'missed', detail: reason },
        missed: ['invited', 'waiting'],
        notify: 'call.missed',
      });
      changed.push(call);
    }
    for (const id of await findActiveCallsWithExpiredInvites(trx, now, 100)) {
      await setParticipantsStatus(trx, id, ['invited'], 'missed');
      const call = await this.load(trx, id);
      outbox.add(
        call.participants.filter((p) => p.status === 'missed').map((p) => p.userId),
        'call.missed',
        { call },
      );
      this.#changed(outbox, call);
      changed.push(call);
    }
    return changed;
  }

  async history(
    db: Db,
    filter: Omit<CallFilter, 'before' | 'limit'> & { cursor?: TimeIdCursor | undefined; limit: number },
  ): Promise<{ items: Call[]; nextCursor: string | null }> {
    const before = filter.cursor;
    const rows = await listCalls(db, { ...filter, before: before && { createdAt: before.at, id: before.id }, limit: filter.limit + 1 });
    return this.#page(db, rows, filter.limit, (r) => encodeTimeIdCursor(r.created_at, r.id));
  }

  async #lockParticipantCall(trx: Db, user: AuthUser, id: string): Promise<CallRow> {
    const row = await findCall(trx, id, true);
    if (!row) throw new ApiError('NOT_FOUND', 'no such call');
    const participants = await findParticipants(trx, [id]);
    if (!participants.some((p) => p.user_id === user.id)) throw new ApiError('NOT_FOUND', 'no such call');
    return row;
  }
}
