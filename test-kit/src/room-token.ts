import { issueRoomToken } from '@telemed/api/room-token';
import type { RoomGrants } from '@telemed/sdk/protocol';

export interface TestRoomTokenOptions {
  /** The media server's room token secret. */
  secret: string;
  room: string;
  identity: string;
  name?: string;
  /** Merged over publish, subscribe and data allowed, no room admin. */
  grants?: Partial<RoomGrants>;
  ttlSeconds?: number;
  roomStartedAt?: Date;
}

/** A room token from the API's own issuer, so tests speak exactly what production speaks. */
export function roomToken(options: TestRoomTokenOptions): string {
  return issueRoomToken(options.secret, {
    room: options.room,
    identity: options.identity,
    ...(options.name === undefined ? {} : { name: options.name }),
    grants: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: false, ...options.grants },
    ttlSeconds: options.ttlSeconds ?? 600,
    ...(options.roomStartedAt === undefined ? {} : { roomStartedAt: options.roomStartedAt }),
  });
}
