import Router from '@koa/router';
import { z } from 'zod';
import { readJson } from '../http/body.js';
import { issueRoomToken } from './room-token.service.js';

const DevTokenRequest = z.object({
  room: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'room: 1-64 letters, digits, - or _'),
  identity: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'identity: 1-64 letters, digits, . @ - or _'),
  name: z.string().min(1).max(64).optional(),
  canPublish: z.boolean().default(true),
  canSubscribe: z.boolean().default(true),
  roomAdmin: z.boolean().default(false),
}).strict();

export interface DevRoomTokenOptions {
  secret: string;
  ttlSeconds: number;
  mediaPublicUrl: string;
}

/**
 * POST /api/dev/room-token: a room token for anyone who asks. Development and test mode only: the
 * call lifecycle (API issue) issues tokens to accepted call participants in production.
 */
export function devRoomTokenRouter(options: DevRoomTokenOptions): Router {
  const router = new Router();
  router.post('/api/dev/room-token', async (ctx) => {
    const body = DevTokenRequest.parse(await readJson(ctx));
    const token = issueRoomToken(options.secret, {
      room: body.room,
      identity: body.identity,
      ...(body.name ? { name: body.name } : {}),
      grants: { canPublish: body.canPublish, canSubscribe: body.canSubscribe, canPublishData: body.canPublish, roomAdmin: body.roomAdmin },
      ttlSeconds: options.ttlSeconds,
    });
    ctx.body = { token, url: options.mediaPublicUrl, expiresIn: options.ttlSeconds };
  });
  return router;
}
