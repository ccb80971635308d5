import { API_KEY_SCOPES } from '@telemed/sdk/protocol';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { Uuid, dbText } from '../http/input.schema.js';
import { ApiKeySchema, IceServerSchema } from '../http/resource.schema.js';
import type { RouteRegistry } from '../http/route.js';
import { issueRoomToken } from '../room-token/room-token.service.js';
import { turnCredentials } from '../room-token/turn-credentials.service.js';
import { createApiKey, listApiKeys, revokeApiKey } from './api-key.service.js';

const CreateApiKey = z.strictObject({ name: dbText({ max: 120, min: 1 }), scopes: z.array(z.enum(API_KEY_SCOPES)).min(1) });
const CreatedApiKey = z.object({ apiKey: ApiKeySchema, secret: z.string().describe('The key itself (tmk_…): shown once, only its SHA-256 is stored') });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MintRoomToken = z.strictObject({
  // A call's room is its id (a UUID) and is joined through the call; development rooms are dev-…
  room: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'room: 1-64 letters, digits, - or _')
    .refine((room) => !UUID.test(room) && !room.startsWith('dev-'), "room: not a call's room (a UUID) or a development room (dev-…)"),
  identity: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'identity: 1-64 letters, digits, . - or _')
    .refine((identity) => !UUID.test(identity), 'identity: not a user id'),
  name: dbText({ max: 64, min: 1 }).optional(),
  canPublish: z.boolean().default(true),
  canSubscribe: z.boolean().default(true),
  canPublishData: z.boolean().default(true),
  roomAdmin: z.boolean().default(false),
  ttlSeconds: z.number().int().min(10).max(86_400).optional().describe('Default: ROOM_TOKEN_TTL'),
});
const MintedRoomToken = z.object({
  token: z.string(),
  url: z.string().describe('The signaling URL of the media node the room is placed on (MEDIA_PUBLIC_URL with one node)'),
  expiresIn: z.number().int(),
  iceServers: z
    .array(IceServerSchema)
    .describe('TURN servers with credentials for this identity that expire no later than the token (empty without TURN): pass them to Room.connect'),
});

export function registerApiKeyRoutes(api: RouteRegistry, app: AppContext): void {
  api.define({
    method: 'post',
    path: '/api/admin/api-keys',
    tag: 'admin',
    access: ['admin'],
    status: 201,
    summary: 'Create an API key for a third-party backend, with scopes; the answer carries the key, which is never shown again',
    body: CreateApiKey,
    response: CreatedApiKey,
    handler: async ({ ctx, user, body }) => {
      const created = await createApiKey(app.db, user.id, body);
      await app.auditLog.write(ctx, user.id, 'create', 'api_key', created.apiKey.id);
      return created;
    },
  });

  api.define({
    method: 'get',
    path: '/api/admin/api-keys',
    tag: 'admin',
    access: ['admin'],
    summary: 'Every API key (never their secrets), newest first, revoked ones included',
    response: z.object({ items: z.array(ApiKeySchema) }),
    handler: async ({ ctx, user }) => {
      const items = await listApiKeys(app.db);
      await app.auditLog.write(
        ctx,
        user.id,
        'read',
        'api_key',
        items.map((k) => k.id),
      );
      return { items };
    },
  });

  api.define({
    method: 'post',
    path: '/api/admin/api-keys/:id/revoke',
    tag: 'admin',
    access: ['admin'],
    summary: 'Revoke an API key: every later request with it is refused (401)',
    params: z.object({ id: Uuid }),
    response: ApiKeySchema,
    handler: async ({ ctx, user, params }) => {
      const key = await revokeApiKey(app.db, params.id);
      await app.auditLog.write(ctx, user.id, 'revoke', 'api_key', key.id);
      return key;
    },
  });

  api.define({
    method: 'post',
    path: '/api/server/room-tokens',
    tag: 'server',
    access: { apiKey: 'room-tokens' },
    status: 201,
    summary:
      "Mint a room token for an app room (not a call's room) with an API key (scope room-tokens); the answer has the media node's URL to connect to and TURN credentials",
    body: MintRoomToken,
    response: MintedRoomToken,
    handler: async ({ ctx, apiKey, body }) => {
      const ttlSeconds = body.ttlSeconds ?? app.config.roomTokenTtlSeconds;
      const token = issueRoomToken(app.config.roomTokenSecret, {
        room: body.room,
        identity: body.identity,
        ...(body.name ? { name: body.name } : {}),
        ttlSeconds,
        grants: { canPublish: body.canPublish, canSubscribe: body.canSubscribe, canPublishData: body.canPublishData, roomAdmin: body.roomAdmin },
      });
      // The key is the actor: no user id; the audit row names the room.
      await app.auditLog.write(ctx, null, 'create', 'room_token', `${apiKey.id}:${body.room}`);
      // Placed like a call's room: sticky on its node, moved when that node is lost.
      const { url } = await app.placement.place(body.room);
      return { token, url, expiresIn: ttlSeconds, iceServers: turnCredentials(app.config, body.identity, ttlSeconds) };
    },
  });
}
