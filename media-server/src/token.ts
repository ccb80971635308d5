import jwt from 'jsonwebtoken';
import { ROOM_TOKEN_AUDIENCE, ROOM_TOKEN_ISSUER, TRACK_SOURCES, type RoomTokenClaims } from '@telemed/sdk/protocol';
import { z } from 'zod';
import { MediaServerError } from './errors.js';
import { hmacKey } from '@telemed/server-kit';

const TrackSourceSchema = z.enum(TRACK_SOURCES);

const ClaimsSchema = z.object({
  room: z.string().min(1).max(128),
  sub: z.string().min(1).max(128),
  name: z.string().max(128).optional(),
  grants: z.object({
    canPublish: z.boolean(),
    canPublishSources: z.array(TrackSourceSchema).optional(),
    canSubscribe: z.boolean(),
    canPublishData: z.boolean(),
    roomAdmin: z.boolean(),
    loadTest: z.boolean().optional(),
  }),
  roomStartedAt: z.number().optional(),
  iat: z.number(),
  exp: z.number(),
  iss: z.literal(ROOM_TOKEN_ISSUER),
  aud: z.literal(ROOM_TOKEN_AUDIENCE),
}) satisfies z.ZodType<RoomTokenClaims>;

/** Verifies a room token (HS256, issuer, audience, expiry) and returns its claims. */
export function verifyRoomToken(token: string | undefined | null, secret: string): RoomTokenClaims {
  if (!token) throw new MediaServerError('UNAUTHORIZED', 'a room token is required');
  let decoded: unknown;
  try {
    decoded = jwt.verify(token, hmacKey(secret), { algorithms: ['HS256'], issuer: ROOM_TOKEN_ISSUER, audience: ROOM_TOKEN_AUDIENCE });
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) throw new MediaServerError('TOKEN_EXPIRED', 'the room token has expired', { cause: error });
    throw new MediaServerError('UNAUTHORIZED', 'the room token is invalid', { cause: error });
  }
  const claims = ClaimsSchema.safeParse(decoded);
  if (!claims.success) throw new MediaServerError('UNAUTHORIZED', 'the room token lacks required claims');
  return claims.data;
}
