import fs from 'node:fs/promises';
import path from 'node:path';
import { MEDIA_EVENTS_ISSUER, RECORDING_UPLOAD_AUDIENCE, type RecordingManifest } from '@telemed/sdk/protocol';
import { signBodyToken } from '@telemed/server-kit';
import { ApiEndpoints } from '../events/ApiEndpoints.js';
import type { Logger } from '../logger.js';
import type { FinishedRecording } from './RoomRecording.js';

export interface RecordingUploaderOptions {
  /** HS256 secret shared with the API (MEDIA_WEBHOOK_SECRET). */
  secret: string;
  /** The API's base URL, or several instances' (a failed attempt moves to the next). */
  apiUrl: string | readonly string[];
  logger: Logger;
  /** Attempts before the file is left on disk for an operator (default 8). */
  attempts?: number;
  /** The wait after the first failed attempt, doubled after each further one, at most 30 s (default 1 s). */
  retryDelayMs?: number;
  /** Per request (default 120 s: a long consultation's file). */
  requestTimeoutMs?: number;
}

/** An API instance answered with a status that asking it again will not change (a 4xx but 408 and 429). */
class UploadRefused extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    body: string,
  ) {
    super(`the API at ${url} refused the recording with ${status}: ${body.slice(0, 200)}`);
    this.name = 'UploadRefused';
  }
}

const isRefusal = (status: number): boolean => status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * Hands finished recordings to the API: `POST {API}/internal/recordings/:id/file` with the file as
 * the body and the manifest in the signed token. An attempt that fails (refused connection, error
 * status, timeout) moves to the next API instance and is retried with backoff; an instance that
 * refuses the file (another secret, recording turned off) is not asked again, and once every
 * instance has refused there are no more attempts. The recording's folder is removed once the API
 * has the file, and kept when it was not delivered.
 */
export class RecordingUploader {
  readonly #options: RecordingUploaderOptions;
  readonly #api: ApiEndpoints;

  constructor(options: RecordingUploaderOptions) {
    this.#options = options;
    this.#api = new ApiEndpoints(options.apiUrl);
  }

  /** Whether the API took the file. */
  async deliver({ file, manifest }: FinishedRecording): Promise<boolean> {
    const data = await fs.readFile(file);
    const attempts = this.#options.attempts ?? 8;
    const firstDelayMs = this.#options.retryDelayMs ?? 1000;
    const refusedBy = new Set<string>();
    for (let attempt = 1; attempt <= attempts; attempt++) {
      while (refusedBy.has(this.#api.current)) this.#api.failed(this.#api.current);
      try {
        await this.#post(manifest.recordingId, data, manifest);
        await fs.rm(path.dirname(file), { recursive: true, force: true });
        this.#options.logger.info(
          { recordingId: manifest.recordingId, bytes: data.length, tracks: manifest.tracks.length, gaps: manifest.gaps.length, attempt },
          'recording handed to the API',
        );
        return true;
      } catch (error) {
        this.#options.logger.warn({ err: error, recordingId: manifest.recordingId, attempt }, 'could not hand a recording to the API');
        if (error instanceof UploadRefused) {
          refusedBy.add(error.url);
          if (refusedBy.size >= this.#api.count) break;
          // The next attempt goes to an instance that has not refused it: no wait.
          continue;
        }
        if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, firstDelayMs * 2 ** (attempt - 1))).unref());
      }
    }
    this.#options.logger.error({ recordingId: manifest.recordingId, file }, 'recording not delivered: the file stays on this media server');
    return false;
  }

  /** Tells the API that nothing usable was recorded (an empty body, no manifest): one attempt. */
  async reportNothingRecorded(recordingId: string): Promise<void> {
    await this.#post(recordingId, Buffer.alloc(0), undefined).catch((error: unknown) =>
      this.#options.logger.warn({ err: error, recordingId }, 'could not tell the API that nothing was recorded'),
    );
  }

  async #post(recordingId: string, data: Buffer, manifest: RecordingManifest | undefined): Promise<void> {
    const token = signBodyToken({
      secret: this.#options.secret,
      issuer: MEDIA_EVENTS_ISSUER,
      audience: RECORDING_UPLOAD_AUDIENCE,
      body: data,
      expiresInSeconds: 300,
      claims: { manifest: manifest ?? null },
    });
    const url = this.#api.current;
    try {
      const res = await fetch(`${url}/internal/recordings/${encodeURIComponent(recordingId)}/file`, {
        method: 'POST',
        headers: { 'content-type': 'video/x-matroska', authorization: `Bearer ${token}` },
        body: new Uint8Array(data),
        signal: AbortSignal.timeout(this.#options.requestTimeoutMs ?? 120_000),
      });
      const text = await res.text().catch(() => '');
      if (isRefusal(res.status)) throw new UploadRefused(url, res.status, text);
      if (!res.ok) throw new Error(`the API at ${url} answered ${res.status}: ${text.slice(0, 200)}`);
    } catch (error) {
      this.#api.failed(url);
      throw error;
    }
  }
}
