import { z } from 'zod';
import type { Call, CallTimelineEntry, RoomAccess } from '@telemed/sdk';
import { listTimeline } from './call-timeline.repository.js';
import type { Transaction } from 'kysely';
import type { AppContext } from '../app-context.js';
import type { Database } from '../db/database.js';
import type { Outbox } from '../events/outbox.js';
import type { AuthUser, RouteRegistry } from '../http/route.js';
import { MAX_SCHEDULE_AHEAD_DAYS } from './call.service.js';
import { CallSchema, CallStatusSchema, CallTypeSchema, RoomAccessSchema, page, same } from '../http/resource.schema.js';
import { Uuid, dbText, dbTimestamp, timeIdCursor } from '../http/input.schema.js';

const CallParams = z.object({ id: Uuid });
const InitiateCall = z.strictObject({
  type: CallTypeSchema,
  inviteeIds: z.array(Uuid).min(1).max(16),
  conversationId: Uuid.optional().describe(
    "the conversation for the call's chat: one of the caller's whose members are exactly the call's participants (403 otherwise); without it the call gets its own",
  ),
});
const HistoryQuery = z.object({
  status: CallStatusSchema.optional(),
  type: CallTypeSchema.optional(),
  from: dbTimestamp().optional(),
  to: dbTimestamp().optional(),
  participantId: Uuid.optional(),
  cursor: timeIdCursor().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
const ScheduleCall = z.strictObject({
  type: CallTypeSchema,
  inviteeIds: z.array(Uuid).min(1).max(16),
  scheduledFor: dbTimestamp().describe(`When the call is booked for: in the future, at most ${MAX_SCHEDULE_AHEAD_DAYS} days ahead`),
  title: dbText({ max: 120, trim: true }).optional(),
});
const UpcomingQuery = z.object({
  cursor: timeIdCursor().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
const CallWithAccess = z.object({ call: CallSchema, access: RoomAccessSchema });
const JoinResult = z.object({
  call: CallSchema,
  access: RoomAccessSchema.nullable().describe('null while a patient waits in the lobby for a doctor of the call to admit them'),
});
const ParticipantParams = z.object({ id: Uuid, userId: Uuid });
const CallTimelineEntryShape = z
  .object({ at: z.string(), userId: z.string().nullable(), displayName: z.string().nullable(), kind: z.string(), detail: z.string().nullable() })
  .meta({ id: 'CallTimelineEntry' });
const CallTimelineEntrySchema = same<typeof CallTimelineEntryShape, CallTimelineEntry>(CallTimelineEntryShape, true);
const PARTICIPANTS = ['patient', 'doctor'] as const;

export function registerCallRoutes(api: RouteRegistry, app: AppContext): void {
  api.define({
    method: 'post',
    path: '/api/calls',
    tag: 'calls',
    access: PARTICIPANTS,
    status: 201,
    summary:
      'Start a video or voice call: the invitees ring until they answer or CALL_TIMEOUT passes (then missed). Its chat is a new conversation of exactly its participants, or the given conversationId when its members are exactly them (403 otherwise: a call never adds members to a conversation)',
    body: InitiateCall,
    response: CallSchema,
    handler: async ({ ctx, user, body }) => {
      const call = await app.transact((trx, outbox) => app.calls.initiate(trx, outbox, user, body));
      await app.auditLog.write(ctx, user.id, 'create', 'call', call.id);
      return call;
    },
  });

  api.define({
    method: 'get',
    path: '/api/calls',
    tag: 'calls',
    access: PARTICIPANTS,
    summary: "The caller's call history, newest first, with filters and a cursor",
    query: HistoryQuery,
    response: page(CallSchema),
    handler: async ({ ctx, user, query }) => {
      const result = await app.calls.history(app.db, {
        participantOf: user.id,
        status: query.status,
        type: query.type,
        from: query.from ? new Date(query.from) : undefined,
        to: query.to ? new Date(query.to) : undefined,
        withParticipant: query.participantId,
        cursor: query.cursor,
        limit: query.limit,
      });
      await app.auditLog.write(
        ctx,
        user.id,
        'read',
        'call',
        result.items.map((c) => c.id),
      );
      return result;
    },
  });

  api.define({
    method: 'get',
    path: '/api/admin/calls',
    tag: 'admin',
    access: ['admin'],
    summary: 'Every call (admin), with the same filters and cursor',
    query: HistoryQuery,
    response: page(CallSchema),
    handler: async ({ ctx, user, query }) => {
      const result = await app.calls.history(app.db, {
        status: query.status,
        type: query.type,
        from: query.from ? new Date(query.from) : undefined,
        to: query.to ? new Date(query.to) : undefined,
        withParticipant: query.participantId,
        cursor: query.cursor,
        limit: query.limit,
      });
      await app.auditLog.write(
        ctx,
        user.id,
        'read',
        'call',
        result.items.map((c) => c.id),
      );
      return result;
    },
  });

  // Before /api/calls/:id, which would otherwise take "scheduled" for an id.
  api.define({
    method: 'post',
    path: '/api/calls/scheduled',
    tag: 'calls',
    access: ['doctor'],
    status: 201,
    summary:
      'Book a video or voice call with contacts for later (status scheduled, no ringing); missed when nobody starts it SCHEDULED_CALL_GRACE after its time',
    body: ScheduleCall,
    response: CallSchema,
    handler: async ({ ctx, user, body }) => {
      const call = await app.transact((trx, outbox) => app.calls.schedule(trx, outbox, user, { ...body, scheduledFor: new Date(body.scheduledFor) }));
      await app.auditLog.write(ctx, user.id, 'create', 'call', call.id);
      return call;
    },
  });

  api.define({
    method: 'get',
    path: '/api/calls/scheduled',
    tag: 'calls',
    access: PARTICIPANTS,
    summary: "The caller's upcoming calls: scheduled, or started and still running; soonest first, with a cursor",
    query: UpcomingQuery,
    response: page(CallSchema),
    handler: async ({ ctx, user, query }) => {
      const result = await app.calls.upcoming(app.db, user.id, query);
      await app.auditLog.write(
        ctx,
        user.id,
        'read',
        'call',
        result.items.map((c) => c.id),
      );
      return result;
    },
  });

  api.define({
    method: 'get',
    path: '/api/calls/:id',
    tag: 'calls',
    access: ['patient', 'doctor', 'admin'],
    summary: 'One call with participants, durations and quality summary (its participants and admins)',
    params: CallParams,
    response: CallSchema,
    handler: async ({ ctx, user, params }) => {
      const call = await app.calls.loadVisible(app.db, user, params.id);
      await app.auditLog.write(ctx, user.id, 'read', 'call', call.id);
      return call;
    },
  });

  type StepResult = Call | { call: Call; access: RoomAccess | null };
  const step = (
    path: string,
    summary: string,
    response: typeof CallSchema | typeof CallWithAccess | typeof JoinResult,
    run: (trx: Transaction<Database>, outbox: Outbox, user: AuthUser, id: string) => Promise<StepResult>,
    access: typeof PARTICIPANTS | readonly ['doctor'] = PARTICIPANTS,
  ): void => {
    api.define({
      method: 'post',
      path: `/api/calls/:id/${path}`,
      tag: 'calls',
      access,
      summary,
      params: CallParams,
      response,
      handler: async ({ ctx, user, params }) => {
        const result = await app.transact((trx, outbox) => run(trx, outbox, user, params.id));
        await app.auditLog.write(ctx, user.id, 'update', 'call', params.id);
        return result;
      },
    });
  };
  const calls = app.calls;
  step('accept', 'Accept a ringing call: the call becomes active and the answer carries a room token', CallWithAccess, (...a) => calls.accept(...a));
  step(
    'join',
    'Join a running call (after leaving, missing or declining it): a doctor walks in; a patient waits in the lobby until a doctor in the call admits them. An invitee of a scheduled call not started yet waits too (from SCHEDULED_CALL_START_WINDOW before its time)',
    JoinResult,
    (...a) => calls.join(...a),
  );
  step(
    'start',
    'Start a scheduled call (the doctor who booked it, from SCHEDULED_CALL_START_WINDOW before its time): it becomes active and the answer carries a room token',
    CallWithAccess,
    (...a) => calls.start(...a),
    ['doctor'],
  );
  step('decline', 'Decline a ringing call (an invitee)', CallSchema, (...a) => calls.decline(...a));
  step(
    'cancel',
    'Cancel a call that is still ringing (the caller), or a scheduled call (its doctor for everyone; an invitee withdraws, which cancels it when no other invitee is left)',
    CallSchema,
    (...a) => calls.cancel(...a),
  );
  step(
    'leave',
    'Leave a running call (a participant in it, or waiting in its lobby; 409 otherwise); it ends when the last participant leaves',
    CallSchema,
    (...a) => calls.leave(...a),
  );
  step('end', 'Hang up: end the call for everyone (an accepted participant)', CallSchema, (...a) => calls.end(...a));

  const decide = (
    path: 'admit' | 'deny',
    summary: string,
    run: (trx: Transaction<Database>, outbox: Outbox, user: AuthUser, id: string, userId: string) => Promise<Call>,
  ): void => {
    api.define({
      method: 'post',
      path: `/api/calls/:id/participants/:userId/${path}`,
      tag: 'calls',
      access: ['doctor'],
      summary,
      params: ParticipantParams,
      response: CallSchema,
      handler: async ({ ctx, user, params }) => {
        const call = await app.transact((trx, outbox) => run(trx, outbox, user, params.id, params.userId));
        await app.auditLog.write(ctx, user.id, 'update', 'call', params.id);
        return call;
      },
    });
  };
  decide('admit', 'Let a participant waiting in the lobby into the call (a doctor in the call); they get a call.accepted event and then a room token', (...a) =>
    calls.admit(...a),
  );
  decide('deny', 'Turn a participant waiting in the lobby away (a doctor in the call); they get a call.admission_denied event', (...a) => calls.deny(...a));

  api.define({
    method: 'get',
    path: '/api/calls/:id/timeline',
    tag: 'calls',
    access: ['patient', 'doctor', 'admin'],
    summary: 'What happened in a call, in order: lifecycle steps and media room joins and leaves (its participants and admins)',
    params: CallParams,
    response: z.object({ items: z.array(CallTimelineEntrySchema) }),
    handler: async ({ ctx, user, params }) => {
      const call = await app.calls.loadVisible(app.db, user, params.id);
      await app.auditLog.write(ctx, user.id, 'read', 'call', call.id);
      return { items: await listTimeline(app.db, call.id) };
    },
  });

  api.define({
    method: 'post',
    path: '/api/calls/:id/token',
    tag: 'calls',
    access: PARTICIPANTS,
    summary: 'A fresh room token for an accepted participant of an active call (a doctor is roomAdmin)',
    params: CallParams,
    response: RoomAccessSchema,
    handler: async ({ user, params }) => app.calls.roomAccess(app.db, user.id, await app.calls.loadVisible(app.db, user, params.id)),
  });
}
