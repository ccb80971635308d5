import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { ApiError } from '../http/errors.js';
import type { RouteRegistry } from '../http/route.js';
import { QualitySampleSchema } from '../http/resource.schema.js';
import { Uuid, dbInt, dbReal, dbText, dbTimestamp } from '../http/input.schema.js';
import { findLatestPerTrack, findSamples, insertSamples } from './quality.repository.js';
import type { CallQualitySampleRow } from './quality.table.js';
import type { QualitySample } from '@telemed/sdk';

const ClientSample = z.object({
  trackId: dbText({ min: 1, max: 128 }),
  direction: z.enum(['in', 'out']),
  kind: z.enum(['audio', 'video']),
  source: z.enum(['camera', 'microphone', 'screenShare', 'screenShareAudio']),
  sampledAt: dbTimestamp(),
  bitrateBps: dbReal({ min: 0 }),
  packetsLost: dbInt({ min: 0 }),
  jitterMs: dbReal().nullable(),
  rttMs: dbReal().nullable(),
  framesPerSecond: dbReal().nullable(),
  frameWidth: dbInt({ min: 0 }).nullable(),
  frameHeight: dbInt({ min: 0 }).nullable(),
  jitterBufferDelayMs: dbReal().nullable(),
});

function toSample(row: CallQualitySampleRow): QualitySample {
  return {
    source: row.source,
    identity: row.identity,
    trackId: row.track_id,
    direction: row.direction,
    kind: row.kind,
    sampledAt: row.sampled_at.toISOString(),
    score: row.score,
    bitrateBps: row.bitrate_bps,
    packetsLost: row.packets_lost,
    lossRatio: row.loss_ratio,
    jitterMs: row.jitter_ms,
    rttMs: row.rtt_ms,
    framesPerSecond: row.frames_per_second,
    frameWidth: row.frame_width,
    frameHeight: row.frame_height,
  };
}

export function registerQualityRoutes(api: RouteRegistry, app: AppContext): void {
  const CallParams = z.object({ id: Uuid });

  api.define({
    method: 'post',
    path: '/api/calls/:id/quality',
    tag: 'quality',
    access: ['patient', 'doctor'],
    summary: 'Client-side track samples from the SDK (RTCPeerConnection.getStats), batched; accepted participants only',
    params: CallParams,
    body: z.strictObject({ samples: z.array(ClientSample).min(1).max(200) }),
    bodyLimitBytes: 256 * 1024,
    response: z.object({ stored: z.number().int() }),
    handler: async ({ ctx, user, params, body }) => {
      const call = await app.calls.loadVisible(app.db, user, params.id);
      const me = call.participants.find((p) => p.userId === user.id);
      if (!me || (me.status !== 'accepted' && me.status !== 'left'))
        throw new ApiError('FORBIDDEN', 'only participants who joined the call report its quality');
      await insertSamples(
        app.db,
        body.samples.map((s) => ({
          call_id: call.id,
          source: 'client',
          identity: user.id,
          track_id: s.trackId,
          direction: s.direction,
          kind: s.kind,
          sampled_at: new Date(s.sampledAt),
          score: null,
          bitrate_bps: s.bitrateBps,
          packets_lost: s.packetsLost,
          loss_ratio: null,
          jitter_ms: s.jitterMs,
          rtt_ms: s.rttMs,
          frames_per_second: s.framesPerSecond,
          frame_width: s.frameWidth,
          frame_height: s.frameHeight,
        })),
      );
      await app.auditLog.write(ctx, user.id, 'create', 'quality', call.id);
      return { stored: body.samples.length };
    },
  });

  api.define({
    method: 'get',
    path: '/api/calls/:id/quality',
    tag: 'quality',
    access: ['patient', 'doctor', 'admin'],
    summary: 'Quality samples of a call over time, optionally of one track (its participants and admins)',
    params: CallParams,
    query: z.object({
      trackId: dbText({ max: 128 }).optional(),
      from: dbTimestamp().optional(),
      limit: z.coerce.number().int().min(1).max(5000).default(1000),
    }),
    response: z.object({ items: z.array(QualitySampleSchema) }),
    handler: async ({ ctx, user, params, query }) => {
      await app.calls.loadVisible(app.db, user, params.id);
      await app.auditLog.write(ctx, user.id, 'read', 'quality', params.id);
      const rows = await findSamples(app.db, params.id, { trackId: query.trackId, from: query.from ? new Date(query.from) : undefined, limit: query.limit });
      return { items: rows.map(toSample) };
    },
  });

  api.define({
    method: 'get',
    path: '/api/admin/quality/live',
    tag: 'admin',
    access: ['admin'],
    summary: 'Live quality: the latest sample of every track of every active call (admin)',
    response: z.object({ items: z.array(z.object({ callId: z.string(), samples: z.array(QualitySampleSchema) })) }),
    handler: async ({ ctx, user }) => {
      const active = await app.db.selectFrom('calls').select('id').where('status', '=', 'active').orderBy('started_at', 'desc').limit(200).execute();
      const rows = await findLatestPerTrack(
        app.db,
        active.map((c) => c.id),
      );
      await app.auditLog.write(
        ctx,
        user.id,
        'read',
        'quality',
        active.map((c) => c.id),
      );
      return { items: active.map((c) => ({ callId: c.id, samples: rows.filter((r) => r.call_id === c.id).map(toSample) })) };
    },
  });
}
