// The hand-over of finished recordings against small real HTTP receivers that check what the API
// checks (the HS256 token for the upload audience, the body's hash, the manifest): several API
// instances, one of them down or failing, and an API that never takes the file.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_EVENTS_ISSUER, RECORDING_UPLOAD_AUDIENCE, type RecordingManifest } from '@telemed/sdk/protocol';
import { matchesBody, readBodyToken } from '@telemed/server-kit';
import { createLogger } from '../logger.js';
import { RecordingUploader } from './RecordingUploader.js';

const SECRET = 'upload-test-secret-0123456789abcdef';

interface Upload {
  path: string;
  body: Buffer;
  manifest: RecordingManifest | null;
}

interface Receiver {
  url: string;
  uploads: Upload[];
  /** Requests answered, accepted or not. */
  requests: number;
  close(): Promise<void>;
}

/** An API instance: answers `status` (200 takes the upload) once the token and body check out, 401 otherwise. */
async function startReceiver(status: number): Promise<Receiver> {
  const receiver = { uploads: [] as Upload[], requests: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      receiver.requests++;
      const body = Buffer.concat(chunks);
      const claims = readBodyToken({
        secret: SECRET,
        issuer: MEDIA_EVENTS_ISSUER,
        audience: RECORDING_UPLOAD_AUDIENCE,
        token: (req.headers.authorization ?? '').replace(/^Bearer /, ''),
      });
      if (req.method !== 'POST' || !claims || !matchesBody(claims, body)) {
        res.writeHead(401).end();
        return;
      }
      if (status === 200) receiver.uploads.push({ path: req.url ?? '', body, manifest: claims.manifest as RecordingManifest | null });
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** A base URL where nothing listens (connection refused). */
async function deadUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('RecordingUploader', () => {
  let dir: string;
  let accepting: Receiver;
  let failing: Receiver;
  let disabled: Receiver;
  const logger = createLogger('silent');

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-upload-'));
    // `disabled` answers as an API with recording turned off: 404.
    [accepting, failing, disabled] = await Promise.all([startReceiver(200), startReceiver(503), startReceiver(404)]);
  });
  afterEach(() => {
    accepting.uploads.length = 0;
    accepting.requests = failing.requests = disabled.requests = 0;
  });
  afterAll(async () => {
    await Promise.all([accepting?.close(), failing?.close(), disabled?.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A finished recording's folder with its muxed file. */
  function finished(recordingId: string): { file: string; manifest: RecordingManifest; bytes: Buffer } {
    const folder = path.join(dir, recordingId);
    fs.mkdirSync(folder);
    const file = path.join(folder, 'call.mkv');
    const bytes = Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.from(`recording ${recordingId}`)]);
    fs.writeFileSync(file, bytes);
    const manifest: RecordingManifest = {
      recordingId,
      roomId: 'room-1',
      startedAt: new Date(0).toISOString(),
      stoppedAt: new Date(5000).toISOString(),
      durationMs: 5000,
      tracks: [{ trackId: 't1', identity: 'doctor', kind: 'audio', codec: 'opus', segments: 1 }],
      gaps: [],
      transcoded: false,
    };
    return { file, manifest, bytes };
  }

  it('moves to the next API instance when one is down or failing, and removes the folder once delivered', async () => {
    for (const [name, first] of [
      ['down', await deadUrl()],
      ['answering 503', failing.url],
    ] as const) {
      const recording = finished(`rec-${name.replace(/\W/g, '')}`);
      const uploader = new RecordingUploader({ secret: SECRET, apiUrl: [first, accepting.url], logger, retryDelayMs: 10 });
      expect(await uploader.deliver(recording), name).toBe(true);
      expect(accepting.uploads, name).toHaveLength(1);
      const [upload] = accepting.uploads.splice(0);
      expect(upload!.path).toBe(`/internal/recordings/${recording.manifest.recordingId}/file`);
      expect(upload!.body.equals(recording.bytes)).toBe(true);
      expect(upload!.manifest).toEqual(recording.manifest);
      expect(fs.existsSync(path.dirname(recording.file)), name).toBe(false);
    }
    expect(failing.requests).toBe(1);
  });

  it('keeps using the instance that took the last upload', async () => {
    const uploader = new RecordingUploader({ secret: SECRET, apiUrl: [failing.url, accepting.url], logger, retryDelayMs: 10 });
    expect(await uploader.deliver(finished('rec-sticky-1'))).toBe(true);
    expect(await uploader.deliver(finished('rec-sticky-2'))).toBe(true);
    expect(failing.requests).toBe(1);
    expect(accepting.uploads.map((u) => u.manifest?.recordingId)).toEqual(['rec-sticky-1', 'rec-sticky-2']);
  });

  it('leaves the file on disk after the last attempt when no instance takes it', async () => {
    const recording = finished('rec-undelivered');
    const uploader = new RecordingUploader({ secret: SECRET, apiUrl: [failing.url, await deadUrl()], logger, attempts: 3, retryDelayMs: 10 });
    expect(await uploader.deliver(recording)).toBe(false);
    expect(failing.requests).toBe(2);
    expect(fs.readFileSync(recording.file).equals(recording.bytes)).toBe(true);
  });

  it('reports a recording with nothing in it as an empty body without a manifest', async () => {
    const uploader = new RecordingUploader({ secret: SECRET, apiUrl: accepting.url, logger });
    await uploader.reportNothingRecorded('rec-empty');
    expect(accepting.uploads).toEqual([{ path: '/internal/recordings/rec-empty/file', body: Buffer.alloc(0), manifest: null }]);
  });

  it('signs with the shared secret: an instance with another secret refuses, and the file stays', async () => {
    const recording = finished('rec-wrong-secret');
    const uploader = new RecordingUploader({ secret: `${SECRET}-other`, apiUrl: accepting.url, logger, attempts: 2, retryDelayMs: 10 });
    expect(await uploader.deliver(recording)).toBe(false);
    // A refusal (401) is final for that instance: it is not asked again.
    expect(accepting.requests).toBe(1);
    expect(accepting.uploads).toEqual([]);
    expect(fs.existsSync(recording.file)).toBe(true);
  });

  it('does not ask an instance that refused the file again, and stops once every instance has refused', async () => {
    const taken = finished('rec-refused-then-taken');
    expect(await new RecordingUploader({ secret: SECRET, apiUrl: [disabled.url, accepting.url], logger, retryDelayMs: 10 }).deliver(taken)).toBe(true);
    expect([disabled.requests, accepting.uploads.length]).toEqual([1, 1]);

    // disabled refuses; the other is down (worth retrying), and the retries skip disabled.
    const undelivered = finished('rec-refused-and-down');
    const dead = await deadUrl();
    expect(await new RecordingUploader({ secret: SECRET, apiUrl: [disabled.url, dead], logger, attempts: 4, retryDelayMs: 10 }).deliver(undelivered)).toBe(
      false,
    );
    expect(disabled.requests).toBe(2);

    // Every instance refused: no more attempts (8 by default, with a 1 s backoff doubling).
    const kept = finished('rec-refused-everywhere');
    expect(await new RecordingUploader({ secret: SECRET, apiUrl: [disabled.url], logger }).deliver(kept)).toBe(false);
    expect(disabled.requests).toBe(3);
    expect(fs.existsSync(kept.file)).toBe(true);
  });
});
