import { z } from 'zod';
import type { CallRecording } from '@telemed/sdk';
import { MEDIA_EVENTS_ISSUER, RECORDING_UPLOAD_AUDIENCE, type RecordingManifest } from '@telemed/sdk/protocol';
import type { AppContext } from '../app-context.js';
import { bearerToken } from '../auth/access-token.js';
import { matchesBody, readBodyToken } from '@telemed/server-kit';
import { ApiError } from '../http/errors.js';
import { Uuid } from '../http/input.schema.js';
import { same } from '../http/resource.schema.js';
import type { RouteRegistry } from '../http/route.js';
import type { RecordingService } from './recording.service.js';

const CallParams = z.object({ id: Uuid });
const RecordingParams = z.object({ id: Uuid });
const Consent = z.strictObject({ granted: z.boolean().describe('true: consent to be recorded; false: refuse') });
const RecordingShape = z
  .object({
    id: z.string(),
    callId: z.string(),
    state: z.enum(['awaiting_consent', 'recording', 'paused', 'refused', 'cancelled', 'processing', 'ready', 'failed', 'deleted']),
    requestedBy: z.string(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    stoppedAt: z.string().nullable(),
    consents: z.array(z.object({ userId: z.string(), decision: z.enum(['granted', 'refused']), decidedAt: z.string() })),
    waitingFor: z.array(z.string()),
    durationSeconds: z.number().nullable(),
    sizeBytes: z.number().int().nullable(),
    gaps: z.array(z.object({ fromMs: z.number(), toMs: z.number() })),
    expiresAt: z.string().nullable(),
  })
  .meta({ id: 'CallRecording' });
export const RecordingSchema = same<typeof RecordingShape, CallRecording>(RecordingShape, true);

const Manifest = z.object({
  recordingId: z.string(),
  roomId: z.string(),
  startedAt: z.string(),
  stoppedAt: z.string(),
  durationMs: z
    .number()
    .min(0)
    .max(2 ** 31 - 1),
  tracks: z
    .array(z.object({ trackId: z.string(), identity: z.string(), kind: z.enum(['audio', 'video']), codec: z.string(), segments: z.number().int() }))
    .max(1000),
  gaps: z.array(z.object({ trackId: z.string(), fromMs: z.number(), toMs: z.number() })).max(10_000),
  transcoded: z.boolean(),
});

/** Reads the media server's upload: the body (bounded), the JWT over its hash, and the manifest in the JWT. */
async function readSignedFile(
  app: AppContext,
  ctx: Parameters<Parameters<RouteRegistry['define']>[0]['handler']>[0]['ctx'],
): Promise<{ data: Buffer; manifest: RecordingManifest | null }> {
  const token = bearerToken(ctx.get('authorization'));
  const claims = readBodyToken({ secret: app.config.mediaWebhookSecret, issuer: MEDIA_EVENTS_ISSUER, audience: RECORDING_UPLOAD_AUDIENCE, token });
  if (!claims) throw new ApiError('UNAUTHORIZED', 'the media server signature is not valid');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > app.config.recordingMaxBytes) throw new ApiError('PAYLOAD_TOO_LARGE', 'the recording is larger than RECORDING_MAX_BYTES');
    chunks.push(chunk as Buffer);
  }
  const data = Buffer.concat(chunks);
  if (!matchesBody(claims, data)) throw new ApiError('UNAUTHORIZED', 'the body does not match its signature');
  if (claims.manifest === null || claims.manifest === undefined) return { data, manifest: null };
  const manifest = Manifest.safeParse(claims.manifest);
  if (!manifest.success) throw new ApiError('BAD_REQUEST', 'the recording manifest is malformed');
  return { data, manifest: manifest.data };
}

export function registerRecordingRoutes(api: RouteRegistry, app: AppContext, recordings: RecordingService): void {
  api.define({
    method: 'get',
    path: '/api/recording-settings',
    tag: 'recordings',
    access: ['patient', 'doctor', 'admin'],
    summary: 'Whether this installation records calls (ENABLE_CALL_RECORDING) and how long recordings are kept (RECORDING_RETENTION_DAYS; null: kept)',
    response: z.object({ enabled: z.boolean(), retentionDays: z.number().nullable() }),
    handler: async () => ({ enabled: app.config.enableCallRecording, retentionDays: app.config.recordingRetentionDays ?? null }),
  });

  api.define({
    method: 'post',
    path: '/api/calls/:id/recording',
    tag: 'recordings',
    access: ['doctor'],
    status: 201,
    summary:
      'Ask to record the running call (a doctor taking part; 404 unless ENABLE_CALL_RECORDING). Everyone in the call is asked (recording.updated events); it records only while everyone present has consented, and pauses while someone who has not is present',
    params: CallParams,
    response: RecordingSchema,
    handler: async ({ ctx, user, params }) => recordings.request(ctx, user, params.id),
  });

  api.define({
    method: 'get',
    path: '/api/calls/:id/recording',
    tag: 'recordings',
    access: ['patient', 'doctor', 'admin'],
    summary:
      "The call's latest recording request and its state, consents and who it waits for (its participants and admins; no file); 204 when recording was never asked for in this call",
    // 204 rather than 404 for "none yet": the apps ask on every call they enter, and a browser logs every 404 as an error.
    params: CallParams,
    response: RecordingSchema.optional(),
    alsoAnswers: { 204: 'Recording was never asked for in this call' },
    handler: async ({ ctx, user, params }) => {
      const recording = await recordings.current(user, params.id);
      if (recording) await app.auditLog.write(ctx, user.id, 'read', 'recording', recording.id);
      return recording;
    },
  });

  api.define({
    method: 'post',
    path: '/api/calls/:id/recording/consent',
    tag: 'recordings',
    access: ['patient', 'doctor'],
    summary: "Consent to (granted: true) or refuse (granted: false) the call's open recording request; stored per participant and audited",
    params: CallParams,
    body: Consent,
    response: RecordingSchema,
    handler: async ({ ctx, user, params, body }) => recordings.answer(ctx, user, params.id, body.granted),
  });

  api.define({
    method: 'post',
    path: '/api/calls/:id/recording/stop',
    tag: 'recordings',
    access: ['doctor'],
    summary:
      "Stop the call's recording, or withdraw the request before it started (a doctor taking part); the file is stored once the media server hands it over (state processing, then ready)",
    params: CallParams,
    response: RecordingSchema,
    handler: async ({ ctx, user, params }) => recordings.stop(ctx, user, params.id),
  });

  api.define({
    method: 'get',
    path: '/api/calls/:id/recordings',
    tag: 'recordings',
    access: ['doctor', 'admin'],
    summary: "The call's recordings, newest first (the call's doctors and admins; patients ask the clinic for a copy)",
    params: CallParams,
    response: z.object({ items: z.array(RecordingSchema) }),
    handler: async ({ ctx, user, params }) => {
      const items = await recordings.list(user, params.id);
      await app.auditLog.write(
        ctx,
        user.id,
        'read',
        'recording',
        items.map((r) => r.id),
      );
      return { items };
    },
  });

  api.define({
    method: 'get',
    path: '/api/recordings/:id/file',
    tag: 'recordings',
    access: ['doctor', 'admin'],
    summary:
      "Download a ready recording (Matroska: one mixed audio stream and the video tracks at their offsets), decrypted; every download is audited (the call's doctors and admins)",
    params: RecordingParams,
    handler: async ({ ctx, user, params }) => {
      const { recording, data, sha256 } = await recordings.file(user, params.id);
      await app.auditLog.write(ctx, user.id, 'download', 'recording', recording.id);
      ctx.set('content-disposition', `attachment; filename="call-${recording.callId}-${recording.id.slice(0, 8)}.mkv"`);
      ctx.set('x-content-sha256', sha256);
      ctx.type = 'video/x-matroska';
      ctx.body = data;
    },
  });

  api.define({
    method: 'post',
    path: '/internal/recordings/:id/file',
    tag: 'internal',
    access: 'media-server',
    summary:
      "The media server hands over a finished recording (Matroska body; a JWT signed with MEDIA_WEBHOOK_SECRET carries the body's SHA-256 and the manifest); an empty body with a null manifest says nothing was recorded",
    params: RecordingParams,
    rawBody: { contentType: 'video/x-matroska', description: 'the muxed recording; see sdk/src/protocol/recording.ts' },
    response: RecordingSchema,
    handler: async ({ ctx, params }) => {
      // Who is asking comes first: an unsigned request is 401 whether or not recording is on.
      const { data, manifest } = await readSignedFile(app, ctx);
      if (!app.config.enableCallRecording) throw new ApiError('NOT_FOUND', 'call recording is not enabled on this installation (ENABLE_CALL_RECORDING)');
      if (manifest && manifest.recordingId !== params.id) throw new ApiError('BAD_REQUEST', 'the manifest is for another recording');
      return recordings.receiveFile(params.id, data, manifest);
    },
  });
}
