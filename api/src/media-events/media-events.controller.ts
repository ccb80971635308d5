import { createHash } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Context } from 'koa';
import { z } from 'zod';
import { MEDIA_EVENTS_AUDIENCE, MEDIA_EVENTS_ISSUER, type Call, type MediaEvent, type MediaEventBatch } from '@telemed/sdk';
import type { AppContext } from '../app-context.js';
import { syncCallPresence } from '../call/call.controller.js';
import { bearerToken } from '../auth/access-token.js';
import { hmacKey } from '../auth/hmac-key.js';
import { ApiError } from '../http/errors.js';
import type { RouteRegistry } from '../http/route.js';
import { applyMediaEvent } from './media-events.service.js';

const MAX_BATCH_BYTES = 1024 * 1024;
const kind = z.enum(['audio', 'video']);
const source = z.enum(['camera', 'microphone', 'screenShare', 'screenShareAudio']);
// epoch: media servers from before room-instance epochs send none; their events keep the old key.
const base = { roomId: z.string().min(1).max(128), epoch: z.number().int().min(0).default(0), seq: z.number().int().positive(), at: z.iso.datetime({ offset: true }) };
const participant = { identity: z.string().min(1).max(128), participantId: z.string().min(1).max(128) };
const nullableNumber = z.number().nullable();
const ServerSample = z.object({
  trackId: z.string().max(128), producerId: z.string().max(128), direction: z.enum(['in', 'out']), identity: z.string().max(128), kind, source,
  sampledAt: z.iso.datetime({ offset: true }), score: z.number(), bitrateBps: z.number(), packets: z.number(), packetsLost: z.number().int(), lossRatio: z.number(),
  jitterMs: nullableNumber, rttMs: nullableNumber, nackCount: z.number(), pliCount: z.number(), firCount: z.number(), spatialLayer: nullableNumber, temporalLayer: nullableNumber,
});
const Event = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('room_started') }),
  z.object({ ...base, type: z.literal('room_finished'), reason: z.enum(['empty', 'max_duration', 'worker_died', 'shutdown']) }),
  z.object({ ...base, ...participant, type: z.literal('participant_joined') }),
  z.object({ ...base, ...participant, type: z.literal('participant_left'), reason: z.enum(['left', 'disconnected', 'removed', 'replaced', 'room_closed']) }),
  z.object({ ...base, ...participant, type: z.literal('participant_reconnected'), how: z.enum(['signaling', 'ice']), offlineMs: z.number().int().min(0), restarts: z.number().int().min(0) }),
  z.object({ ...base, ...participant, type: z.literal('track_published'), trackId: z.string().max(128), kind, source }),
  z.object({ ...base, ...participant, type: z.literal('track_unpublished'), trackId: z.string().max(128) }),
  z.object({ ...base, type: z.literal('track_stats'), samples: z.array(ServerSample).max(500) }),
]);
const Batch = z.object({ node: z.string().min(1).max(128), events: z.array(Event).max(1000) });
// The schema must accept exactly what the protocol type describes.
const _protocolCheck: [z.infer<typeof Batch>] extends [MediaEventBatch] ? true : never = true;
void _protocolCheck;

/** Reads the raw body, checks the JWT and the body's hash, then parses it. */
async function readSignedBatch(ctx: Context, secret: string): Promise<MediaEventBatch> {
  const token = bearerToken(ctx.get('authorization'));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BATCH_BYTES) throw new ApiError('PAYLOAD_TOO_LARGE', 'the batch is too large');
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(token, hmacKey(secret), { algorithms: ['HS256'], issuer: MEDIA_EVENTS_ISSUER, audience: MEDIA_EVENTS_AUDIENCE }) as jwt.JwtPayload;
  } catch {
    throw new ApiError('UNAUTHORIZED', 'the media server signature is not valid');
  }
  if (claims.sha256 !== createHash('sha256').update(raw).digest('base64url')) throw new ApiError('UNAUTHORIZED', 'the body does not match its signature');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError('BAD_REQUEST', 'the body is not valid JSON');
  }
  return Batch.parse(json) as MediaEventBatch;
}

export function registerMediaEventRoutes(api: RouteRegistry, app: AppContext): void {
  api.define({
    method: 'post', path: '/internal/media-events', tag: 'internal', access: 'media-server',
    summary: 'Signed event batches from the media server (participants joined, left, reconnected; room finished; track stats); idempotent per (roomId, epoch, seq)',
    rawBody: { contentType: 'application/json', description: 'MediaEventBatch (sdk/src/protocol/media-events.ts), signed: JWT with the body\'s SHA-256' },
    response: z.object({ applied: z.number().int(), duplicates: z.number().int(), ignored: z.number().int() }),
    handler: async ({ ctx }) => {
      const batch = await readSignedBatch(ctx, app.config.mediaWebhookSecret);
      const counts = { applied: 0, duplicates: 0, ignored: 0 };
      const changed = new Map<string, Call>();
      // Events of one room in order (instance by instance); each in its own transaction so one bad event cannot block the rest.
      const ordered = [...batch.events].sort((a: MediaEvent, b: MediaEvent) => a.roomId.localeCompare(b.roomId) || a.epoch - b.epoch || a.seq - b.seq);
      for (const event of ordered) {
        const result = await app.transact((trx, outbox) => applyMediaEvent(trx, outbox, app.calls, event, changed));
        app.metrics.mediaEvents.inc({ type: event.type, result });
        counts[result === 'duplicate' ? 'duplicates' : result]++;
      }
      for (const call of changed.values()) await syncCallPresence(app, call);
      return counts;
    },
  });
}
