import { TRACK_SOURCES } from '@telemed/sdk/protocol';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import type { RouteRegistry } from '../http/route.js';

const RoomParams = z.object({
  room: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a room is 1-64 letters, digits, - or _')
    .describe("The media room (a call's room is its id)"),
});
const ParticipantParams = RoomParams.extend({
  identity: z.string().min(1).max(128).describe("The participant's identity (a user's id, or what a minted room token named)"),
});
const TrackSourceSchema = z.enum(TRACK_SOURCES);
const TrackSchema = z
  .object({
    trackId: z.string(),
    source: TrackSourceSchema,
    kind: z.enum(['audio', 'video']),
    muted: z.boolean().describe('Paused on the server: by its publisher, a room admin or the server API'),
  })
  .meta({ id: 'RoomTrack' });
const ParticipantSchema = z
  .object({
    participantId: z.string().describe("The signaling session's id (changes when the participant joins again)"),
    identity: z.string(),
    name: z.string(),
    joinedAt: z.string(),
    tracks: z.array(TrackSchema),
  })
  .meta({ id: 'RoomParticipant' });

/** A live room's participants for a third-party backend's API key (scope rooms); the key is the audited actor. */
export function registerRoomServerRoutes(api: RouteRegistry, app: AppContext): void {
  api.define({
    method: 'get',
    path: '/api/server/rooms/:room/participants',
    tag: 'server',
    access: { apiKey: 'rooms' },
    summary: 'Who is in a live room now, with their published tracks, with an API key (scope rooms); 404 when the room is open on no media node',
    params: RoomParams,
    response: z.object({ room: z.string(), items: z.array(ParticipantSchema) }),
    handler: async ({ ctx, apiKey, params }) => {
      const items = await app.mediaRooms.participants(params.room);
      await app.auditLog.write(ctx, null, 'read', 'participant', [...items.map((p) => `${params.room}:${p.identity}`), apiKey.id]);
      return { room: params.room, items };
    },
  });

  api.define({
    method: 'post',
    path: '/api/server/rooms/:room/participants/:identity/mute',
    tag: 'server',
    access: { apiKey: 'rooms' },
    summary:
      "Mute a participant's track of one source with an API key (scope rooms): paused on the server, the others see it muted and the participant's SDK shows it muted by the server (it may unmute)",
    params: ParticipantParams,
    body: z.strictObject({ source: TrackSourceSchema }),
    response: z.object({ participant: ParticipantSchema, track: TrackSchema }),
    handler: async ({ ctx, apiKey, params, body }) => {
      const muted = await app.mediaRooms.mute(params.room, params.identity, body.source);
      await app.auditLog.write(ctx, null, 'update', 'participant', [`${params.room}:${params.identity}`, apiKey.id]);
      return muted;
    },
  });

  api.define({
    method: 'delete',
    path: '/api/server/rooms/:room/participants/:identity',
    tag: 'server',
    access: { apiKey: 'rooms' },
    summary:
      'Remove a participant from a live room with an API key (scope rooms): its SDK disconnects with the reason removed and does not reconnect; the room token it joined with is refused from then on (a token minted later may join again)',
    params: ParticipantParams,
    response: z.object({ removed: z.literal(true), closed: z.number().int().describe('Signaling sessions closed') }),
    handler: async ({ ctx, apiKey, params }) => {
      const removed = await app.mediaRooms.remove(params.room, params.identity);
      await app.auditLog.write(ctx, null, 'delete', 'participant', [`${params.room}:${params.identity}`, apiKey.id]);
      return removed;
    },
  });
}
