import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Attachment, Call, Conversation, Message, Page, Session } from '@telemed/sdk';
import type { AnyRouteSpec } from './http/route.js';
import { DATABASES, client, login, startTestApp, type DemoUser, type TestApp } from './testing/test-app.js';

/**
 * Every state-changing route, for each id it takes (path or body), tried with a record the caller
 * must not use there: it is refused with the error shape and nothing in the database changes. The
 * route registry drives it: a new state-changing route, or a new id parameter, without a case here
 * fails the coverage test.
 */

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR-cross-record-test')]);
const USERS = ['alice', 'bob', 'carol', 'drgrey', 'drhouse', 'admin'] as const;

/** The records the cases point at, made through the API like users make them. */
interface World {
  user: Record<DemoUser, string>;
  conversation: {
    /** Seeded direct conversation Alice ↔ Dr. Grey. */
    aliceGrey: string;
    /** Seeded group Dr. Grey, Dr. House, Bob. */
    careTeam: string;
  };
  /** The newest message of each conversation. */
  message: { aliceGrey: number; careTeam: number };
  attachment: {
    /** Uploaded by Alice to her conversation with Dr. Grey. */
    aliceInAliceGrey: string;
    /** Uploaded by Dr. Grey to the care team group. */
    greyInCareTeam: string;
    /** Uploaded by Bob to the care team group. */
    bobInCareTeam: string;
  };
  call: {
    /** Alice rings Dr. Grey (ringing). */
    ringing: string;
    /** Dr. Grey with Alice (accepted); Bob declined and waits in the lobby. */
    lobby: string;
    /** Dr. House with Bob (accepted); Carol declined and waits in the lobby; Dr. Grey declined. */
    house: string;
    /** Dr. House booked a call with Carol for tomorrow. */
    scheduled: string;
  };
  /** A care team with Dr. Grey and Bob. */
  team: string;
}

interface Attempt {
  /** Path parameters; the path comes from the route spec. */
  params?: Record<string, string>;
  body?: unknown;
  /** A multipart upload (part "file") instead of a JSON body (POST). */
  file?: Buffer;
}

interface Case {
  /** The id parameter this case is about: a path parameter (`:id`) or a body field. */
  param: string;
  as: DemoUser;
  what: string;
  attempt(w: World): Attempt;
  status: 401 | 403 | 404 | 409 | 422;
  /** The refusal's message, so the request is refused for this reason and not another. */
  message: RegExp;
}

type RouteCases = { cases: Case[] } | { noRecordIds: string };

/** Body fields named like ids that are not references to stored records. */
const NOT_RECORD_REFERENCES: Record<string, string> = {
  clientId: 'an idempotency key made by the client, scoped to its sender (message.test.ts)',
};

const CODE = { 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 409: 'CONFLICT', 422: 'VALIDATION_FAILED' } as const;
const NOBODY = '00000000-0000-4000-8000-00000000dead';
const noCall = /no such call/;

const CASES: Record<string, RouteCases> = {
  'POST /api/auth/login': { noRecordIds: 'public: e-mail and password' },
  'POST /api/auth/refresh': { noRecordIds: 'public: the refresh token is the credential itself' },
  'POST /api/auth/logout': { noRecordIds: 'public: the refresh token is the credential itself' },
  'PUT /api/presence': { noRecordIds: "sets the caller's own status only" },
  'POST /api/admin/api-keys': { noRecordIds: 'admins only (auth.test.ts); creates a new key' },
  'POST /api/server/room-tokens': { noRecordIds: "an API key's route: rooms are names, never a call's (api-key.test.ts)" },
  'POST /api/admin/api-keys/:id/revoke': {
    cases: [
      {
        param: 'id',
        as: 'drgrey',
        what: 'any key, as a doctor',
        attempt: () => ({ params: { id: '00000000-0000-4000-8000-000000000000' } }),
        status: 403,
        message: /this route is for: admin/,
      },
      {
        param: 'id',
        as: 'admin',
        what: 'a key that does not exist',
        attempt: () => ({ params: { id: '00000000-0000-4000-8000-000000000000' } }),
        status: 404,
        message: /no such API key/,
      },
    ],
  },
  'POST /api/server/calls': {
    cases: [
      {
        param: 'initiatorId',
        as: 'drgrey',
        what: "a user's token on an API key's route (keys see the whole installation by design: call-server.test.ts, webhook.test.ts)",
        attempt: (w) => ({ body: { initiatorId: w.user.drgrey, inviteeIds: [w.user.alice], type: 'video' } }),
        status: 401,
        message: /API key is required/,
      },
      {
        param: 'inviteeIds',
        as: 'drgrey',
        what: "a user's token on an API key's route (keys see the whole installation by design: call-server.test.ts, webhook.test.ts)",
        attempt: (w) => ({ body: { initiatorId: w.user.drgrey, inviteeIds: [w.user.alice], type: 'video' } }),
        status: 401,
        message: /API key is required/,
      },
    ],
  },
  'POST /api/server/calls/:id/end': {
    cases: [
      {
        param: 'id',
        as: 'drgrey',
        what: "a user's token on an API key's route (keys see the whole installation by design: call-server.test.ts, webhook.test.ts)",
        attempt: () => ({ params: { id: NOBODY } }),
        status: 401,
        message: /API key is required/,
      },
    ],
  },
  'POST /api/server/calls/:id/access': {
    cases: [
      {
        param: 'id',
        as: 'bob',
        what: "a user's token on an API key's route, for a call he is not in (keys see the whole installation by design: call-server.test.ts)",
        attempt: (w) => ({ params: { id: w.call.lobby }, body: { userId: w.user.alice } }),
        status: 401,
        message: /API key is required/,
      },
      {
        param: 'userId',
        as: 'alice',
        what: "a user's token on an API key's route, for another participant's access (keys see the whole installation by design: call-server.test.ts)",
        attempt: (w) => ({ params: { id: w.call.lobby }, body: { userId: w.user.drgrey } }),
        status: 401,
        message: /API key is required/,
      },
    ],
  },
  'POST /api/server/webhooks/:id/test': {
    cases: [
      {
        param: 'id',
        as: 'drgrey',
        what: "a user's token on an API key's route (keys see the whole installation by design: call-server.test.ts, webhook.test.ts)",
        attempt: () => ({ params: { id: NOBODY } }),
        status: 401,
        message: /API key is required/,
      },
    ],
  },
  'POST /api/server/rooms/:room/participants/:identity/mute': {
    cases: [
      {
        param: 'room',
        as: 'drgrey',
        what: "a user's token on an API key's route (keys see the whole installation by design: server-room-control.test.ts)",
        attempt: () => ({ params: { room: NOBODY, identity: NOBODY }, body: { source: 'camera' } }),
        status: 401,
        message: /API key is required/,
      },
      {
        param: 'identity',
        as: 'alice',
        what: "a user's token on an API key's route (keys see the whole installation by design: server-room-control.test.ts)",
        attempt: (w) => ({ params: { room: NOBODY, identity: w.user.drgrey }, body: { source: 'microphone' } }),
        status: 401,
        message: /API key is required/,
      },
    ],
  },
  'DELETE /api/server/rooms/:room/participants/:identity': {
    cases: [
      {
        param: 'room',
        as: 'drgrey',
        what: "a user's token on an API key's route (keys see the whole installation by design: server-room-control.test.ts)",
        attempt: () => ({ params: { room: NOBODY, identity: NOBODY } }),
        status: 401,
        message: /API key is required/,
      },
      {
        param: 'identity',
        as: 'alice',
        what: "a user's token on an API key's route (keys see the whole installation by design: server-room-control.test.ts)",
        attempt: (w) => ({ params: { room: NOBODY, identity: w.user.drgrey } }),
        status: 401,
        message: /API key is required/,
      },
    ],
  },
  'POST /api/admin/webhooks': { noRecordIds: 'admins only; registers a new endpoint' },
  'DELETE /api/admin/webhooks/:id': {
    cases: [
      {
        param: 'id',
        as: 'drgrey',
        what: 'any webhook, as a doctor',
        attempt: () => ({ params: { id: NOBODY } }),
        status: 403,
        message: /this route is for: admin/,
      },
      { param: 'id', as: 'admin', what: 'a webhook that does not exist', attempt: () => ({ params: { id: NOBODY } }), status: 404, message: /no such webhook/ },
    ],
  },
  'POST /api/admin/webhooks/:id/disable': {
    cases: [
      {
        param: 'id',
        as: 'drgrey',
        what: 'any webhook, as a doctor',
        attempt: () => ({ params: { id: NOBODY } }),
        status: 403,
        message: /this route is for: admin/,
      },
      { param: 'id', as: 'admin', what: 'a webhook that does not exist', attempt: () => ({ params: { id: NOBODY } }), status: 404, message: /no such webhook/ },
    ],
  },
  'POST /api/admin/webhooks/:id/test': {
    cases: [
      {
        param: 'id',
        as: 'drgrey',
        what: 'any webhook, as a doctor',
        attempt: () => ({ params: { id: NOBODY } }),
        status: 403,
        message: /this route is for: admin/,
      },
      { param: 'id', as: 'admin', what: 'a webhook that does not exist', attempt: () => ({ params: { id: NOBODY } }), status: 404, message: /no such webhook/ },
    ],
  },
  'POST /api/admin/webhooks/:id/deliveries/:deliveryId/redeliver': {
    cases: [
      {
        param: 'id',
        as: 'admin',
        what: 'a webhook that does not exist',
        attempt: () => ({ params: { id: NOBODY, deliveryId: NOBODY } }),
        status: 404,
        message: /no such delivery/,
      },
      {
        param: 'deliveryId',
        as: 'drgrey',
        what: 'any delivery, as a doctor',
        attempt: () => ({ params: { id: NOBODY, deliveryId: NOBODY } }),
        status: 403,
        message: /this route is for: admin/,
      },
      {
        param: 'deliveryId',
        as: 'admin',
        what: 'a delivery that does not exist (or of another endpoint: webhook.test.ts)',
        attempt: () => ({ params: { id: NOBODY, deliveryId: NOBODY } }),
        status: 404,
        message: /no such delivery/,
      },
    ],
  },
  'POST /internal/media-events': {
    noRecordIds:
      "the media server's signed batches; events of rooms that are no call or of identities that are no participant are ignored (media-events.test.ts)",
  },
  'POST /api/calls': {
    cases: [
      {
        param: 'inviteeIds',
        as: 'alice',
        what: 'a patient who is not in her care',
        attempt: (w) => ({ body: { type: 'video', inviteeIds: [w.user.carol] } }),
        status: 403,
        message: /care team or your patients/,
      },
      {
        param: 'inviteeIds',
        as: 'drgrey',
        what: 'a patient of another doctor',
        attempt: (w) => ({ body: { type: 'video', inviteeIds: [w.user.carol] } }),
        status: 403,
        message: /care team or your patients/,
      },
      {
        param: 'conversationId',
        as: 'drgrey',
        what: 'his direct conversation with Alice, for a call with Bob',
        attempt: (w) => ({ body: { type: 'video', inviteeIds: [w.user.bob], conversationId: w.conversation.aliceGrey } }),
        status: 403,
        message: /exactly the call's participants/,
      },
      {
        param: 'conversationId',
        as: 'drgrey',
        what: 'his direct conversation with Alice, for a call with Alice and Bob',
        attempt: (w) => ({ body: { type: 'video', inviteeIds: [w.user.alice, w.user.bob], conversationId: w.conversation.aliceGrey } }),
        status: 403,
        message: /exactly the call's participants/,
      },
      {
        param: 'conversationId',
        as: 'drgrey',
        what: 'a group with Dr. House, for a call with Bob only',
        attempt: (w) => ({ body: { type: 'voice', inviteeIds: [w.user.bob], conversationId: w.conversation.careTeam } }),
        status: 403,
        message: /exactly the call's participants/,
      },
      {
        param: 'conversationId',
        as: 'drhouse',
        what: 'a conversation he is not in',
        attempt: (w) => ({ body: { type: 'video', inviteeIds: [w.user.bob], conversationId: w.conversation.aliceGrey } }),
        status: 404,
        message: /no such conversation/,
      },
    ],
  },
  'POST /api/calls/scheduled': {
    cases: [
      {
        param: 'inviteeIds',
        as: 'drgrey',
        what: 'a patient of another doctor',
        attempt: (w) => ({ body: { type: 'video', inviteeIds: [w.user.carol], scheduledFor: new Date(Date.now() + 86_400_000).toISOString() } }),
        status: 403,
        message: /care team or your patients/,
      },
    ],
  },
  'POST /api/calls/:id/accept': {
    cases: [
      { param: 'id', as: 'bob', what: 'a call between Alice and Dr. Grey', attempt: (w) => ({ params: { id: w.call.ringing } }), status: 404, message: noCall },
      {
        param: 'id',
        as: 'drhouse',
        what: 'a call between Alice and Dr. Grey',
        attempt: (w) => ({ params: { id: w.call.ringing } }),
        status: 404,
        message: noCall,
      },
    ],
  },
  'POST /api/calls/:id/join': {
    cases: [
      {
        param: 'id',
        as: 'carol',
        what: 'a running call she was never invited to',
        attempt: (w) => ({ params: { id: w.call.lobby } }),
        status: 404,
        message: noCall,
      },
      {
        param: 'id',
        as: 'drhouse',
        what: 'a running call of another doctor',
        attempt: (w) => ({ params: { id: w.call.lobby } }),
        status: 404,
        message: noCall,
      },
    ],
  },
  'POST /api/calls/:id/start': {
    cases: [
      { param: 'id', as: 'drgrey', what: 'a call another doctor booked', attempt: (w) => ({ params: { id: w.call.scheduled } }), status: 404, message: noCall },
    ],
  },
  'POST /api/calls/:id/decline': {
    cases: [
      { param: 'id', as: 'bob', what: 'a call between Alice and Dr. Grey', attempt: (w) => ({ params: { id: w.call.ringing } }), status: 404, message: noCall },
    ],
  },
  'POST /api/calls/:id/cancel': {
    cases: [
      { param: 'id', as: 'bob', what: 'a call between Alice and Dr. Grey', attempt: (w) => ({ params: { id: w.call.ringing } }), status: 404, message: noCall },
      { param: 'id', as: 'drgrey', what: 'a call another doctor booked', attempt: (w) => ({ params: { id: w.call.scheduled } }), status: 404, message: noCall },
    ],
  },
  'POST /api/calls/:id/leave': {
    cases: [
      {
        param: 'id',
        as: 'carol',
        what: 'a running call she was never invited to',
        attempt: (w) => ({ params: { id: w.call.lobby } }),
        status: 404,
        message: noCall,
      },
      {
        param: 'id',
        as: 'drgrey',
        what: 'a running call he declined (he is not in it)',
        attempt: (w) => ({ params: { id: w.call.house } }),
        status: 409,
        message: /not in this call/,
      },
    ],
  },
  'POST /api/calls/:id/end': {
    cases: [
      {
        param: 'id',
        as: 'carol',
        what: 'a running call she was never invited to',
        attempt: (w) => ({ params: { id: w.call.lobby } }),
        status: 404,
        message: noCall,
      },
      {
        param: 'id',
        as: 'bob',
        what: 'a running call he only waits to be admitted to',
        attempt: (w) => ({ params: { id: w.call.lobby } }),
        status: 403,
        message: /only a participant in the call/,
      },
    ],
  },
  ...Object.fromEntries(
    (['admit', 'deny'] as const).map((decision) => [
      `POST /api/calls/:id/participants/:userId/${decision}`,
      {
        cases: [
          {
            param: 'id',
            as: 'drhouse',
            what: 'a call of another doctor (Bob waits there)',
            attempt: (w) => ({ params: { id: w.call.lobby, userId: w.user.bob } }),
            status: 404,
            message: noCall,
          },
          {
            param: 'id',
            as: 'drgrey',
            what: 'a call he declined (Carol waits there)',
            attempt: (w) => ({ params: { id: w.call.house, userId: w.user.carol } }),
            status: 403,
            message: /only a doctor in the call/,
          },
          {
            param: 'userId',
            as: 'drgrey',
            what: 'a patient waiting in another call',
            attempt: (w) => ({ params: { id: w.call.lobby, userId: w.user.carol } }),
            status: 404,
            message: /no such participant/,
          },
          {
            param: 'userId',
            as: 'drgrey',
            what: 'a participant who never asked to be let in',
            attempt: (w) => ({ params: { id: w.call.lobby, userId: w.user.alice } }),
            status: 409,
            message: /not waiting/,
          },
        ],
      } satisfies RouteCases,
    ]),
  ),
  'POST /api/calls/:id/token': {
    cases: [
      {
        param: 'id',
        as: 'carol',
        what: 'a running call she was never invited to',
        attempt: (w) => ({ params: { id: w.call.lobby } }),
        status: 404,
        message: noCall,
      },
      {
        param: 'id',
        as: 'bob',
        what: 'a running call he only waits to be admitted to',
        attempt: (w) => ({ params: { id: w.call.lobby } }),
        status: 403,
        message: /only accepted participants/,
      },
    ],
  },
  'POST /api/calls/:id/quality': {
    cases: [
      {
        param: 'id',
        as: 'carol',
        what: 'a running call she was never invited to',
        attempt: (w) => ({ params: { id: w.call.lobby }, body: { samples: [clientSample()] } }),
        status: 404,
        message: noCall,
      },
      {
        param: 'id',
        as: 'bob',
        what: 'a running call he only waits to be admitted to',
        attempt: (w) => ({ params: { id: w.call.lobby }, body: { samples: [clientSample()] } }),
        status: 403,
        message: /only participants who joined/,
      },
    ],
  },
  'POST /api/calls/:id/recording': {
    cases: [
      {
        param: 'id',
        as: 'drhouse',
        what: 'a running call of another doctor',
        attempt: (w) => ({ params: { id: w.call.lobby } }),
        status: 404,
        message: noCall,
      },
      {
        param: 'id',
        as: 'drgrey',
        what: 'a running call he declined (he is not in it)',
        attempt: (w) => ({ params: { id: w.call.house } }),
        status: 403,
        message: /only a doctor taking part/,
      },
    ],
  },
  'POST /api/calls/:id/recording/consent': {
    cases: [
      {
        param: 'id',
        as: 'carol',
        what: 'a running call she was never invited to',
        attempt: (w) => ({ params: { id: w.call.lobby }, body: { granted: true } }),
        status: 404,
        message: noCall,
      },
      {
        param: 'id',
        as: 'bob',
        what: 'a call nobody asked to record',
        attempt: (w) => ({ params: { id: w.call.lobby }, body: { granted: true } }),
        status: 409,
        message: /no recording of this call is waiting/,
      },
    ],
  },
  'POST /api/calls/:id/recording/stop': {
    cases: [
      {
        param: 'id',
        as: 'drhouse',
        what: 'a running call of another doctor',
        attempt: (w) => ({ params: { id: w.call.lobby } }),
        status: 404,
        message: noCall,
      },
      {
        param: 'id',
        as: 'drgrey',
        what: 'a running call he declined (he is not in it)',
        attempt: (w) => ({ params: { id: w.call.house } }),
        status: 403,
        message: /only a doctor taking part/,
      },
    ],
  },
  'POST /internal/recordings/:id/file': {
    cases: [
      {
        param: 'id',
        as: 'alice',
        what: "a recording file posted with a user's token instead of the media server's signature",
        attempt: () => ({ params: { id: crypto.randomUUID() } }),
        status: 401,
        message: /media server signature/,
      },
    ],
  },
  'POST /api/conversations': {
    cases: [
      {
        param: 'memberIds',
        as: 'alice',
        what: 'a patient who is not in her care',
        attempt: (w) => ({ body: { kind: 'direct', memberIds: [w.user.carol] } }),
        status: 403,
        message: /care team or your patients/,
      },
      {
        param: 'memberIds',
        as: 'alice',
        what: 'her doctor and a patient who is not in her care',
        attempt: (w) => ({ body: { kind: 'group', memberIds: [w.user.drgrey, w.user.carol], title: 'x' } }),
        status: 403,
        message: /care team or your patients/,
      },
      {
        param: 'memberIds',
        as: 'drgrey',
        what: 'a patient of another doctor',
        attempt: (w) => ({ body: { kind: 'direct', memberIds: [w.user.carol] } }),
        status: 403,
        message: /care team or your patients/,
      },
    ],
  },
  'POST /api/conversations/:id/messages': {
    cases: [
      {
        param: 'id',
        as: 'bob',
        what: 'the conversation of Alice and her doctor',
        attempt: (w) => ({ params: { id: w.conversation.aliceGrey }, body: { clientId: crypto.randomUUID(), body: 'hello' } }),
        status: 404,
        message: /no such conversation/,
      },
      {
        param: 'id',
        as: 'drhouse',
        what: 'the conversation of Alice and another doctor',
        attempt: (w) => ({ params: { id: w.conversation.aliceGrey }, body: { clientId: crypto.randomUUID(), body: 'hello' } }),
        status: 404,
        message: /no such conversation/,
      },
      {
        param: 'attachmentId',
        as: 'drgrey',
        what: 'his file of the care team group, sent to Alice',
        attempt: (w) => ({
          params: { id: w.conversation.aliceGrey },
          body: { clientId: crypto.randomUUID(), body: 'see this', attachmentId: w.attachment.greyInCareTeam },
        }),
        status: 404,
        message: /no such attachment in this conversation/,
      },
      {
        param: 'attachmentId',
        as: 'alice',
        what: 'a file of a group she is not in',
        attempt: (w) => ({
          params: { id: w.conversation.aliceGrey },
          body: { clientId: crypto.randomUUID(), body: 'see this', attachmentId: w.attachment.bobInCareTeam },
        }),
        status: 404,
        message: /no such attachment in this conversation/,
      },
      {
        param: 'attachmentId',
        as: 'drgrey',
        what: 'a file Alice uploaded, sent as his',
        attempt: (w) => ({
          params: { id: w.conversation.aliceGrey },
          body: { clientId: crypto.randomUUID(), body: 'see this', attachmentId: w.attachment.aliceInAliceGrey },
        }),
        status: 403,
        message: /files you uploaded/,
      },
    ],
  },
  ...Object.fromEntries(
    (['delivered', 'read'] as const).map((kind) => [
      `POST /api/conversations/:id/${kind}`,
      {
        cases: [
          {
            param: 'id',
            as: 'bob',
            what: 'the conversation of Alice and her doctor',
            attempt: (w) => ({ params: { id: w.conversation.aliceGrey }, body: { upToMessageId: w.message.aliceGrey } }),
            status: 404,
            message: /no such conversation/,
          },
          {
            param: 'upToMessageId',
            as: 'alice',
            what: 'a message of a group she is not in',
            attempt: (w) => ({ params: { id: w.conversation.aliceGrey }, body: { upToMessageId: w.message.careTeam } }),
            status: 404,
            message: /no such message in this conversation/,
          },
          {
            param: 'upToMessageId',
            as: 'drgrey',
            what: 'a message of another conversation of his',
            attempt: (w) => ({ params: { id: w.conversation.aliceGrey }, body: { upToMessageId: w.message.careTeam } }),
            status: 404,
            message: /no such message in this conversation/,
          },
        ],
      } satisfies RouteCases,
    ]),
  ),
  'POST /api/admin/users': { noRecordIds: 'admin: creates a new account (a taken e-mail is a 409: account.test.ts)' },
  'PATCH /api/admin/users/:id': {
    cases: [
      {
        param: 'id',
        as: 'admin',
        what: 'his own account, to another role',
        attempt: (w) => ({ params: { id: w.user.admin }, body: { role: 'doctor' } }),
        status: 409,
        message: /your own role/,
      },
    ],
  },
  'POST /api/admin/users/:id/disable': {
    cases: [
      { param: 'id', as: 'admin', what: 'his own account', attempt: (w) => ({ params: { id: w.user.admin } }), status: 409, message: /your own account/ },
    ],
  },
  'POST /api/admin/users/:id/enable': {
    cases: [
      { param: 'id', as: 'admin', what: 'an account that does not exist', attempt: () => ({ params: { id: NOBODY } }), status: 404, message: /no such user/ },
    ],
  },
  'POST /api/admin/users/:id/reset-password': {
    cases: [
      { param: 'id', as: 'admin', what: 'an account that does not exist', attempt: () => ({ params: { id: NOBODY } }), status: 404, message: /no such user/ },
    ],
  },
  'POST /api/invitations/lookup': { noRecordIds: "public: the link's token is the credential itself" },
  'POST /api/invitations/accept': { noRecordIds: "public: the link's token is the credential itself" },
  'POST /api/admin/care-relationships': {
    cases: [
      {
        param: 'doctorId',
        as: 'admin',
        what: 'a patient as the doctor',
        attempt: (w) => ({ body: { doctorId: w.user.alice, patientId: w.user.bob } }),
        status: 422,
        message: /is not a doctor/,
      },
      {
        param: 'patientId',
        as: 'admin',
        what: 'a doctor as the patient',
        attempt: (w) => ({ body: { doctorId: w.user.drgrey, patientId: w.user.drhouse } }),
        status: 422,
        message: /is not a patient/,
      },
    ],
  },
  'DELETE /api/admin/care-relationships/:doctorId/:patientId': {
    cases: [
      {
        param: 'doctorId',
        as: 'admin',
        what: "a doctor who is not Alice's",
        attempt: (w) => ({ params: { doctorId: w.user.drhouse, patientId: w.user.alice } }),
        status: 404,
        message: /no such care relationship/,
      },
      {
        param: 'patientId',
        as: 'admin',
        what: "a patient who is not Dr. Grey's",
        attempt: (w) => ({ params: { doctorId: w.user.drgrey, patientId: w.user.carol } }),
        status: 404,
        message: /no such care relationship/,
      },
    ],
  },
  'POST /api/admin/care-teams': { noRecordIds: 'admin: creates a new team' },
  'PATCH /api/admin/care-teams/:id': {
    cases: [
      {
        param: 'id',
        as: 'admin',
        what: 'a team that does not exist',
        attempt: () => ({ params: { id: NOBODY }, body: { name: 'Renamed' } }),
        status: 404,
        message: /no such care team/,
      },
    ],
  },
  'DELETE /api/admin/care-teams/:id': {
    cases: [
      { param: 'id', as: 'admin', what: 'a team that does not exist', attempt: () => ({ params: { id: NOBODY } }), status: 404, message: /no such care team/ },
    ],
  },
  'PUT /api/admin/care-teams/:id/members/:userId': {
    cases: [
      {
        param: 'id',
        as: 'admin',
        what: 'a team that does not exist',
        attempt: (w) => ({ params: { id: NOBODY, userId: w.user.alice } }),
        status: 404,
        message: /no such care team/,
      },
      {
        param: 'userId',
        as: 'admin',
        what: 'an admin as a member',
        attempt: (w) => ({ params: { id: w.team, userId: w.user.admin } }),
        status: 422,
        message: /is not a doctor or patient/,
      },
    ],
  },
  'DELETE /api/admin/care-teams/:id/members/:userId': {
    cases: [
      {
        param: 'id',
        as: 'admin',
        what: 'a team that does not exist',
        attempt: (w) => ({ params: { id: NOBODY, userId: w.user.bob } }),
        status: 404,
        message: /not a member/,
      },
      {
        param: 'userId',
        as: 'admin',
        what: 'a patient who is not in the team',
        attempt: (w) => ({ params: { id: w.team, userId: w.user.alice } }),
        status: 404,
        message: /not a member/,
      },
    ],
  },
  'POST /api/conversations/:id/attachments': {
    cases: [
      {
        param: 'id',
        as: 'bob',
        what: 'the conversation of Alice and her doctor',
        attempt: (w) => ({ params: { id: w.conversation.aliceGrey }, file: PNG }),
        status: 404,
        message: /no such conversation/,
      },
      {
        param: 'id',
        as: 'drhouse',
        what: 'the conversation of Alice and another doctor',
        attempt: (w) => ({ params: { id: w.conversation.aliceGrey }, file: PNG }),
        status: 404,
        message: /no such conversation/,
      },
    ],
  },
};

function clientSample() {
  return {
    trackId: 'cam-1',
    direction: 'out',
    kind: 'video',
    source: 'camera',
    sampledAt: new Date().toISOString(),
    bitrateBps: 500_000,
    packetsLost: 0,
    jitterMs: 2,
    rttMs: 30,
    framesPerSecond: 30,
    frameWidth: 640,
    frameHeight: 360,
    jitterBufferDelayMs: null,
  };
}

const routeKey = (spec: AnyRouteSpec): string => `${spec.method.toUpperCase()} ${spec.path}`;

/** The ids a route takes: its path parameters and the top-level body fields named like ids. */
function idParameters(spec: AnyRouteSpec): string[] {
  const fromPath = [...spec.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
  const fromBody =
    spec.body instanceof z.ZodObject ? Object.keys(spec.body.shape).filter((key) => /(^id|Id|Ids)$/.test(key) && !(key in NOT_RECORD_REFERENCES)) : [];
  return [...fromPath, ...fromBody];
}

/** Every row of every table but the audit log (refused requests may be audited) and the migrator's. */
async function snapshot(t: TestApp): Promise<Record<string, string[]>> {
  const tables = await sql<{
    name: string;
  }>`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(
    t.app.db,
  );
  const result: Record<string, string[]> = {};
  for (const { name } of tables.rows) {
    if (name === 'audit_log' || name.startsWith('kysely_')) continue;
    const rows = await sql<{ row: string }>`select to_jsonb(t)::text as row from ${sql.table(name)} t`.execute(t.app.db);
    result[name] = rows.rows.map((r) => r.row).sort();
  }
  return result;
}

function filesIn(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile())
    .map((f) => path.join(f.parentPath, f.name))
    .sort();
}

describe.each(DATABASES)('cross-record access on %s', (database) => {
  let t: TestApp;
  let dir: string;
  let world: World;
  const s = {} as Record<DemoUser, Session>;
  const as = (who: DemoUser) => client(t.url, s[who].accessToken);

  const upload = async (who: DemoUser, url: string, data: Buffer): Promise<Response> => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(data)], { type: 'application/octet-stream' }), 'scan.png');
    return fetch(`${t.url}${url}`, { method: 'POST', headers: { authorization: `Bearer ${s[who].accessToken}` }, body: form });
  };

  async function build(): Promise<World> {
    const user = Object.fromEntries(USERS.map((who) => [who, s[who].user.id])) as Record<DemoUser, string>;
    const conversations = (await as('drgrey').get<Page<Conversation>>('/api/conversations')).body.items;
    const members = (c: Conversation): string =>
      c.members
        .map((m) => m.userId)
        .sort()
        .join(',');
    const aliceGrey = conversations.find((c) => c.kind === 'direct' && members(c) === [user.alice, user.drgrey].sort().join(','))!.id;
    const careTeam = conversations.find((c) => c.kind === 'group' && members(c) === [user.bob, user.drgrey, user.drhouse].sort().join(','))!.id;
    const newest = async (who: DemoUser, id: string): Promise<number> =>
      (await as(who).get<Page<Message>>(`/api/conversations/${id}/messages?limit=1`)).body.items[0]!.id;
    const uploaded = async (who: DemoUser, id: string): Promise<string> => {
      const res = await upload(who, `/api/conversations/${id}/attachments`, PNG);
      expect(res.status).toBe(201);
      return ((await res.json()) as Attachment).id;
    };
    const post = async <T>(who: DemoUser, url: string, body: unknown = {}, status = 200): Promise<T> => {
      const res = await as(who).post<T>(url, body);
      expect(res.status, `${who} POST ${url}`).toBe(status);
      return res.body;
    };
    const ringing = await post<Call>('alice', '/api/calls', { type: 'video', inviteeIds: [user.drgrey] }, 201);
    const lobby = await post<Call>('drgrey', '/api/calls', { type: 'video', inviteeIds: [user.alice, user.bob] }, 201);
    await post('alice', `/api/calls/${lobby.id}/accept`);
    await post('bob', `/api/calls/${lobby.id}/decline`);
    await post('bob', `/api/calls/${lobby.id}/join`);
    const house = await post<Call>('drhouse', '/api/calls', { type: 'video', inviteeIds: [user.bob, user.carol, user.drgrey] }, 201);
    await post('bob', `/api/calls/${house.id}/accept`);
    await post('carol', `/api/calls/${house.id}/decline`);
    await post('drgrey', `/api/calls/${house.id}/decline`);
    await post('carol', `/api/calls/${house.id}/join`);
    const team = await as('admin').post<{ id: string }>('/api/admin/care-teams', { name: 'Cross-record team' });
    expect(team.status).toBe(201);
    for (const member of [user.drgrey, user.bob]) expect((await as('admin').put(`/api/admin/care-teams/${team.body.id}/members/${member}`)).status).toBe(200);
    const scheduled = await post<Call>(
      'drhouse',
      '/api/calls/scheduled',
      { type: 'video', inviteeIds: [user.carol], scheduledFor: new Date(Date.now() + 86_400_000).toISOString() },
      201,
    );
    return {
      user,
      conversation: { aliceGrey, careTeam },
      message: { aliceGrey: await newest('alice', aliceGrey), careTeam: await newest('bob', careTeam) },
      attachment: {
        aliceInAliceGrey: await uploaded('alice', aliceGrey),
        greyInCareTeam: await uploaded('drgrey', careTeam),
        bobInCareTeam: await uploaded('bob', careTeam),
      },
      call: { ringing: ringing.id, lobby: lobby.id, house: house.id, scheduled: scheduled.id },
      team: team.body.id,
    };
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-cross-record-'));
    // Ringing calls must not time out while the cases run.
    t = await startTestApp(database, { attachmentsDir: dir, callTimeoutSeconds: 600, messageRateLimit: 1000, enableCallRecording: true });
    for (const who of USERS) s[who] = await login(t.url, who);
    world = await build();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('has a case for every id parameter of every state-changing route', () => {
    const problems: string[] = [];
    const changing = t.app.routes.specs.filter((spec) => spec.method !== 'get');
    for (const spec of changing) {
      const key = routeKey(spec);
      const entry = CASES[key];
      const ids = idParameters(spec);
      if (!entry) problems.push(`${key}: no entry (ids: ${ids.join(', ') || 'none'})`);
      else if ('noRecordIds' in entry) {
        if (ids.length > 0) problems.push(`${key}: declared without record ids but takes ${ids.join(', ')}`);
      } else {
        for (const id of ids) if (!entry.cases.some((c) => c.param === id)) problems.push(`${key}: no case for ${id}`);
        for (const c of entry.cases) if (!ids.includes(c.param)) problems.push(`${key}: a case for ${c.param}, which the route does not take`);
      }
    }
    const known = new Set(changing.map(routeKey));
    for (const key of Object.keys(CASES)) if (!known.has(key)) problems.push(`${key}: no such state-changing route`);
    expect(problems).toEqual([]);
    expect(changing.length).toBeGreaterThan(20);
  });

  it('a direct conversation never gains a member, in the database itself', async () => {
    const before = await snapshot(t);
    const third = t.app.db.insertInto('conversation_members').values({ conversation_id: world.conversation.aliceGrey, user_id: world.user.bob }).execute();
    await expect(third).rejects.toThrow(/exactly two members/);
    expect(await snapshot(t)).toEqual(before);
  });

  const all = Object.entries(CASES).flatMap(([key, entry]) => ('cases' in entry ? entry.cases.map((c) => ({ key, c })) : []));
  it.each(all)('$key refuses $c.param = $c.what (as $c.as) and changes nothing', async ({ key, c }) => {
    const spec = t.app.routes.specs.find((r) => routeKey(r) === key)!;
    const attempt = c.attempt(world);
    const url = spec.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
      const value = attempt.params?.[name];
      if (value === undefined) throw new Error(`${key}: the case gives no ${name}`);
      return encodeURIComponent(value);
    });
    const before = await snapshot(t);
    const files = filesIn(dir);
    const res = attempt.file
      ? await upload(c.as, url, attempt.file)
      : await fetch(`${t.url}${url}`, {
          method: spec.method.toUpperCase(),
          headers: { authorization: `Bearer ${s[c.as].accessToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(attempt.body ?? {}),
        });
    const text = await res.text();
    expect(res.status, text).toBe(c.status);
    const body = JSON.parse(text) as { error: { code: string; message: string } };
    expect(body).toEqual({
      error: { code: CODE[c.status], message: expect.stringMatching(c.message), ...('details' in body.error ? { details: expect.anything() } : {}) },
    });
    expect(await snapshot(t)).toEqual(before);
    expect(filesIn(dir)).toEqual(files);
  });
});
