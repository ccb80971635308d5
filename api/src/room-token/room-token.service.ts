import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ROOM_TOKEN_AUDIENCE, ROOM_TOKEN_ISSUER, type RoomGrants } from '@telemed/sdk/protocol';
import { hmacKey } from '@telemed/server-kit';

export interface IssueRoomTokenInput {
  room: string;
  identity: string;
  name?: string;
  grants: RoomGrants;
  ttlSeconds: number;
  /** When the call started: the media server counts the maximum call duration from it. */
  roomStartedAt?: Date;
}

/** Signs a media-server room token (HS256) with the shared secret. */
export function issueRoomToken(secret: string, input: IssueRoomTokenInput): string {
  const claims = {
    room: input.room,
    name: input.name ?? input.identity,
    grants: input.grants,
    ...(input.roomStartedAt ? { roomStartedAt: Math.floor(input.roomStartedAt.getTime() / 1000) } : {}),
  };
  return jwt.sign(claims, hmacKey(secret), {
    algorithm: 'HS256',
    subject: input.identity,
    issuer: ROOM_TOKEN_ISSUER,
    audience: ROOM_TOKEN_AUDIENCE,
    expiresIn: input.ttlSeconds,
    jwtid: randomUUID(),
  });
}
