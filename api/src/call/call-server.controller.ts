import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { ApiError } from '../http/errors.js';
import { Uuid, timeIdCursor } from '../http/input.schema.js';
import { CallSchema, CallStatusSchema, CallTypeSchema, RoomAccessSchema, page } from '../http/resource.schema.js';
import type { RouteRegistry } from '../http/route.js';
import { findUserById } from '../user/user.repository.js';

const CreateCall = z.strictObject({
  initiatorId: Uuid.describe('The doctor the call is from: rings as if they had called'),
  inviteeIds: z.array(Uuid).min(1).max(16).describe('Their patients or fellow doctors (the same rules as a call made in the app)'),
  type: CallTypeSchema,
});
const CallAccess = z.strictObject({ userId: Uuid.describe('A participant of the call who has accepted it') });
const ListCalls = z.object({
  status: CallStatusSchema.optional(),
  cursor: timeIdCursor().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
const RoomSchema = z
  .object({
    room: z.string().describe("The media room (a call's room is its id)"),
    callId: z.string(),
    type: CallTypeSchema,
    startedAt: z.string().nullable(),
    participants: z.array(z.object({ userId: z.string(), status: z.string(), inRoom: z.boolean() })),
  })
  .meta({ id: 'Room' });

/** Calls, their room access and rooms for a third-party backend's API key (scopes calls, rooms); the key is the audited actor. */
export function registerServerCallRoutes(api: RouteRegistry, app: AppContext): void {
  api.define({
    method: 'post',
    path: '/api/server/calls',
    tag: 'server',
    access: { apiKey: 'calls' },
    status: 201,
    summary: 'Start a call from a doctor to their patients or colleagues with an API key (scope calls): it rings as if the doctor had called',
    body: CreateCall,
    response: CallSchema,
    handler: async ({ ctx, apiKey, body }) => {
      const initiator = await findUserById(app.db, body.initiatorId);
      if (!initiator || initiator.disabled_at) throw new ApiError('NOT_FOUND', 'no such user');
      if (initiator.role !== 'doctor') throw new ApiError('FORBIDDEN', 'calls made with an API key are from a doctor');
      const call = await app.transact((trx, outbox) =>
        app.calls.initiate(trx, outbox, { id: initiator.id, role: initiator.role }, { type: body.type, inviteeIds: body.inviteeIds }),
      );
      await app.auditLog.write(ctx, null, 'create', 'call', [call.id, apiKey.id]);
      return call;
    },
  });

  api.define({
    method: 'post',
    path: '/api/server/calls/:id/end',
    tag: 'server',
    access: { apiKey: 'calls' },
    summary: 'End a call with an API key (scope calls): an active one for everyone, a ringing or scheduled one is cancelled',
    params: z.object({ id: Uuid }),
    response: CallSchema,
    handler: async ({ ctx, apiKey, params }) => {
      const call = await app.transact((trx, outbox) => app.calls.endAsService(trx, outbox, params.id));
      await app.auditLog.write(ctx, null, 'update', 'call', [call.id, apiKey.id]);
      return call;
    },
  });

  api.define({
    method: 'post',
    path: '/api/server/calls/:id/access',
    tag: 'server',
    access: { apiKey: 'calls' },
    summary:
      "Room access for an accepted participant of an active call with an API key (scope calls): what the participant's own POST /api/calls/{id}/token answers, for the backend to hand to its page",
    params: z.object({ id: Uuid }),
    body: CallAccess,
    response: RoomAccessSchema,
    handler: async ({ ctx, apiKey, params, body }) => {
      const access = await app.calls.roomAccessAsService(app.db, params.id, body.userId);
      await app.auditLog.write(ctx, null, 'create', 'room_token', [params.id, body.userId, apiKey.id]);
      return access;
    },
  });

  api.define({
    method: 'get',
    path: '/api/server/calls',
    tag: 'server',
    access: { apiKey: 'calls' },
    summary: 'Every call, newest first, with an API key (scope calls)',
    query: ListCalls,
    response: page(CallSchema),
    handler: async ({ ctx, apiKey, query }) => {
      const result = await app.calls.history(app.db, { status: query.status, cursor: query.cursor, limit: query.limit });
      await app.auditLog.write(ctx, null, 'read', 'call', [...result.items.map((c) => c.id), apiKey.id]);
      return result;
    },
  });

  api.define({
    method: 'get',
    path: '/api/server/rooms',
    tag: 'server',
    access: { apiKey: 'rooms' },
    summary: 'The rooms of the active calls and who is in them, with an API key (scope rooms)',
    response: z.object({ items: z.array(RoomSchema) }),
    handler: async ({ ctx, apiKey }) => {
      const { items } = await app.calls.history(app.db, { status: 'active', limit: 100 });
      await app.auditLog.write(ctx, null, 'read', 'call', [...items.map((c) => c.id), apiKey.id]);
      return {
        items: items.map((call) => ({
          room: call.id,
          callId: call.id,
          type: call.type,
          startedAt: call.startedAt,
          participants: call.participants.map((p) => ({ userId: p.userId, status: p.status, inRoom: p.inRoom })),
        })),
      };
    },
  });
}
