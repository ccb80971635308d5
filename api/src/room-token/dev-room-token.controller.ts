import type { MediaPlacement } from '../media-node/media-placement.js';
import Router from '@koa/router';
import { z } from 'zod';
import { readJson } from '../http/body.js';
import { ApiError } from '../http/errors.js';
import { isLoopbackAddress } from '@telemed/server-kit';
import { issueRoomToken } from './room-token.service.js';

/**
 * The development rooms' name space. A call's room is the call's id (a UUID, hex digits only), so a
 * name starting with "dev-" is never a call's room.
 */
export const DEV_ROOM_PREFIX = 'dev-';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const DevTokenRequest = z
  .object({
    room: z
      .string()
      .regex(
        /^dev-[A-Za-z0-9_-]{1,60}$/,
        `room: "${DEV_ROOM_PREFIX}" then 1-60 letters, digits, - or _ (development rooms only; a call's room comes from the call)`,
      ),
    // Users take part in calls under their user id (a UUID); e-mail addresses name users too.
    identity: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'identity: 1-64 letters, digits, . - or _')
      .refine((identity) => !UUID.test(identity), 'identity: not a user id'),
    name: z.string().min(1).max(64).optional(),
    canPublish: z.boolean().default(true),
    canSubscribe: z.boolean().default(true),
    roomAdmin: z.boolean().default(false),
  })
  .strict();

export interface DevRoomTokenOptions {
  secret: string;
  ttlSeconds: number;
  placement: Pick<MediaPlacement, 'place'>;
}

/** Headers a reverse proxy adds: a request through one may come from anywhere. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'via'];

/**
 * POST /api/dev/room-token: a room token without signing in, for the development call page. Only in
 * development and test mode with the API listening on loopback (app.ts), only to loopback clients
 * not behind a proxy, only for "dev-" rooms and identities that are no user's; anything else finds
 * no such route. Calls get their tokens from the call lifecycle.
 */
export function devRoomTokenRouter(options: DevRoomTokenOptions): Router {
  const router = new Router();
  router.post('/api/dev/room-token', async (ctx) => {
    if (!isLoopbackAddress(ctx.req.socket.remoteAddress) || PROXY_HEADERS.some((h) => ctx.get(h) !== '')) {
      throw new ApiError('NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
    }
    const body = DevTokenRequest.parse(await readJson(ctx));
    const token = issueRoomToken(options.secret, {
      room: body.room,
      identity: body.identity,
      ...(body.name ? { name: body.name } : {}),
      grants: { canPublish: body.canPublish, canSubscribe: body.canSubscribe, canPublishData: body.canPublish, roomAdmin: body.roomAdmin },
      ttlSeconds: options.ttlSeconds,
    });
    ctx.body = { token, url: (await options.placement.place(body.room)).url, expiresIn: options.ttlSeconds };
  });
  return router;
}
