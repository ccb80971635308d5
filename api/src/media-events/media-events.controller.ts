import type { Context } from 'koa';
import { z } from 'zod';
import { MEDIA_EVENTS_AUDIENCE, MEDIA_EVENTS_ISSUER, type MediaEvent, type MediaEventBatch } from '@telemed/sdk/protocol';
import type { AppContext } from '../app-context.js';
import { bearerToken } from '../auth/access-token.js';
import { matchesBody, readBodyToken } from '@telemed/server-kit';
import { ApiError } from '../http/errors.js';
import { dbInt, dbReal, dbText, dbTimestamp } from '../http/input.schema.js';
import type { RouteRegistry } from '../http/route.js';
import { applyMediaEvent } from './media-events.service.js';

const MAX_BATCH_BYTES = 1024 * 1024;
const kind = z.enum(['audio', 'video']);
const source = z.enum(['camera', 'microphone', 'screenShare', 'screenShareAudio']);
const name = dbText({ min: 1, max: 128 });
// epoch: media servers from before room-instance epochs send none; their events keep the old key.
const base = { roomId: name, epoch: z.number().int().min(0).default(0), seq: dbInt({ min: 1 }), at: dbTimestamp() };
const participant = { identity: name, participantId: name };
// Stored in call_quality_samples (real and integer columns); the counters and layers are not stored but must be numbers.
const ServerSample = z.object({
  trackId: dbText({ max: 128 }),
  producerId: dbText({ max: 128 }),
  direction: z.enum(['in', 'out']),
  identity: dbText({ max: 128 }),
  kind,
  source,
  sampledAt: dbTimestamp(),
  score: dbReal(),
  bitrateBps: dbReal(),
  packets: z.number(),
  packetsLost: dbInt(),
  lossRatio: dbReal(),
  jitterMs: dbReal().nullable(),
  rttMs: dbReal().nullable(),
  nackCount: z.number(),
  pliCount: z.number(),
  firCount: z.number(),
  spatialLayer: z.number().nullable(),
  temporalLayer: z.number().nullable(),
});
const Event = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('room_started') }),
  z.object({ ...base, type: z.literal('room_finished'), reason: z.enum(['empty', 'max_duration', 'worker_died', 'shutdown']) }),
  z.object({ ...base, ...participant, type: z.literal('participant_joined') }),
  z.object({ ...base, ...participant, type: z.literal('participant_left'), reason: z.enum(['left', 'disconnected', 'removed', 'replaced', 'room_closed']) }),
  z.object({
    ...base,
    ...participant,
    type: z.literal('participant_reconnected'),
    how: z.enum(['signaling', 'ice']),
    offlineMs: z.number().int().min(0),
    restarts: z.number().int().min(0),
  }),
  z.object({ ...base, ...participant, type: z.literal('track_published'), trackId: dbText({ max: 128 }), kind, source }),
  z.object({ ...base, ...participant, type: z.literal('track_unpublished'), trackId: dbText({ max: 128 }) }),
  z.object({ ...base, type: z.literal('track_stats'), samples: z.array(ServerSample).max(500) }),
]);
const MAX_EVENTS = 1000;
/** The protocol (documented in the OpenAPI document). */
const Batch = z.object({ node: name, events: z.array(Event).max(MAX_EVENTS) });
// The schema must accept exactly what the protocol type describes.
const _protocolCheck: [z.output<typeof Batch>] extends [MediaEventBatch] ? true : never = true;
void _protocolCheck;
/** What is parsed first: one malformed event must not cost the batch's others. */
const Envelope = z.object({ node: name, events: z.array(z.unknown()).max(MAX_EVENTS) });

interface ParsedEvents {
  node: string;
  events: MediaEvent[];
  /** Events that did not match the protocol, by index, with what was wrong (paths and messages, no values). */
  rejected: Array<{ index: number; issues: string[] }>;
  rejectedSamples: number;
}

const issuesOf = (error: z.ZodError): string[] => error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`);

/**
 * A media server retries a batch until it is answered 2xx, so one bad event or sample must not
 * refuse the batch (it would be retried forever and block the room's later events): a malformed
 * event is skipped and reported, and a track_stats event keeps its well-formed samples.
 */
function parseEvents(json: unknown): ParsedEvents {
  const envelope = Envelope.parse(json);
  const parsed: ParsedEvents = { node: envelope.node, events: [], rejected: [], rejectedSamples: 0 };
  envelope.events.forEach((raw, index) => {
    let candidate = raw;
    if (
      typeof raw === 'object' &&
      raw !== null &&
      (raw as { type?: unknown }).type === 'track_stats' &&
      Array.isArray((raw as { samples?: unknown }).samples)
    ) {
      const samples = (raw as { samples: unknown[] }).samples;
      const good = samples.filter((s) => ServerSample.safeParse(s).success);
      parsed.rejectedSamples += samples.length - good.length;
      candidate = { ...raw, samples: good };
    }
    const event = Event.safeParse(candidate);
    if (event.success) parsed.events.push(event.data as MediaEvent);
    else parsed.rejected.push({ index, issues: issuesOf(event.error) });
  });
  return parsed;
}

/** Reads the raw body, checks the JWT and the body's hash, then parses it. */
async function readSignedBatch(ctx: Context, secret: string): Promise<ParsedEvents> {
  const token = bearerToken(ctx.get('authorization'));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BATCH_BYTES) throw new ApiError('PAYLOAD_TOO_LARGE', 'the batch is too large');
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  const claims = readBodyToken({ secret, issuer: MEDIA_EVENTS_ISSUER, audience: MEDIA_EVENTS_AUDIENCE, token });
  if (!claims) throw new ApiError('UNAUTHORIZED', 'the media server signature is not valid');
  if (!matchesBody(claims, raw)) throw new ApiError('UNAUTHORIZED', 'the body does not match its signature');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError('BAD_REQUEST', 'the body is not valid JSON');
  }
  return parseEvents(json);
}

export function registerMediaEventRoutes(api: RouteRegistry, app: AppContext): void {
  api.define({
    method: 'post',
    path: '/internal/media-events',
    tag: 'internal',
    access: 'media-server',
    summary:
      'Signed event batches from the media server (participants joined, left, reconnected; room finished; track stats); idempotent per (roomId, epoch, seq)',
    rawBody: {
      contentType: 'application/json',
      schema: Batch,
      description:
        "MediaEventBatch (sdk/src/protocol/media-events.ts), signed: JWT with the body's SHA-256. An event that does not match its schema is skipped (counted in rejected), and a track_stats sample that does not is dropped (rejectedSamples): the rest of the batch is applied and answered 200, so the media server does not retry a batch forever",
    },
    response: z.object({
      applied: z.number().int(),
      duplicates: z.number().int(),
      ignored: z.number().int(),
      rejected: z.number().int(),
      rejectedSamples: z.number().int(),
    }),
    handler: async ({ ctx }) => {
      const batch = await readSignedBatch(ctx, app.config.mediaWebhookSecret);
      if (batch.rejected.length > 0 || batch.rejectedSamples > 0) {
        app.logger.warn(
          { node: batch.node, rejected: batch.rejected, rejectedSamples: batch.rejectedSamples },
          'media events that do not match the protocol were skipped',
        );
      }
      const counts = { applied: 0, duplicates: 0, ignored: 0, rejected: batch.rejected.length, rejectedSamples: batch.rejectedSamples };
      // A node stopping (drain deadline) closes its rooms with 'shutdown': while another node takes
      // rooms, the call moves there (the SDK's refresher) instead of ending.
      const nodes = await app.placement.nodes().catch(() => []);
      const roomsMoveOnShutdown = nodes.some((n) => n.id !== batch.node && !n.draining);
      // Events of one room in order (instance by instance); each in its own transaction so one bad event cannot block the rest.
      const ordered = [...batch.events].sort((a: MediaEvent, b: MediaEvent) => a.roomId.localeCompare(b.roomId) || a.epoch - b.epoch || a.seq - b.seq);
      for (const event of ordered) {
        const result = await app.transact((trx, outbox) => applyMediaEvent(trx, outbox, app.calls, event, { roomsMoveOnShutdown }));
        app.metrics.mediaEvents.inc({ type: event.type, result });
        counts[result === 'duplicate' ? 'duplicates' : result]++;
      }
      return counts;
    },
  });
}
