import type http from 'node:http';
import path from 'node:path';
import { z } from 'zod';
import { RECORDING_COMMAND_AUDIENCE, RECORDING_COMMAND_ISSUER } from '@telemed/sdk/protocol';
import { readBody } from '../http-body.js';
import { MediaServerError } from '../errors.js';
import { matchesBody, readBodyToken } from '@telemed/server-kit';
import type { Logger } from '../logger.js';
import type { Room } from '../Room.js';
import type { RoomManager } from '../RoomManager.js';
import { RecordingUploader } from './RecordingUploader.js';
import { RoomRecording, type FinishedRecording } from './RoomRecording.js';
import { tieAvailable } from './tied-process.js';

export interface RecordingsOptions {
  rooms: RoomManager;
  /** Where recordings are written until the API has them (MEDIA_RECORDING_DIR). */
  dir: string;
  ffmpegPath: string;
  ffprobePath: string;
  /** HS256 secret shared with the API (MEDIA_WEBHOOK_SECRET): signs commands and uploads. */
  secret: string;
  /** The API's base URL, or several instances' (tried in turn); finished files go to `${apiUrl}/internal/recordings/:id/file`. */
  apiUrl: string | readonly string[];
  logger: Logger;
  /** Upload attempts before the file is left on disk for an operator, with backoff. */
  uploadAttempts?: number;
}

const Command = z.strictObject({
  recordingId: z.uuid(),
  state: z.enum(['recording', 'paused']),
  identities: z.array(z.string().min(1).max(128)).max(64),
});
const MAX_COMMAND_BYTES = 16 * 1024;

/**
 * Call recording at the media server (off unless MEDIA_ENABLE_RECORDING): the HTTP commands from
 * the API (`PUT|DELETE /rooms/:id/recording`), one RoomRecording per room, and the hand-over of
 * finished files to the API. A room that closes ends its recording like a DELETE.
 */
export class Recordings {
  readonly #options: RecordingsOptions;
  readonly #active = new Map<string, RoomRecording>();
  readonly #uploads = new Set<Promise<void>>();
  readonly #uploader: RecordingUploader;

  constructor(options: RecordingsOptions) {
    this.#options = options;
    this.#uploader = new RecordingUploader({
      secret: options.secret,
      apiUrl: options.apiUrl,
      logger: options.logger,
      ...(options.uploadAttempts === undefined ? {} : { attempts: options.uploadAttempts }),
    });
    if (!tieAvailable) options.logger.warn('setpriv (util-linux) not found: recorder processes would outlive a media server that is killed');
    options.rooms.on('roomClosed', (room: Room) => {
      const recording = this.#active.get(room.id);
      if (recording?.room === room) void this.#finish(recording);
    });
  }

  /** The running recording of a room (tests kill its recorder processes). */
  get(roomId: string): RoomRecording | undefined {
    return this.#active.get(roomId);
  }

  /** Resolves once every started upload is done (shutdown and tests). */
  async idle(): Promise<void> {
    while (this.#uploads.size > 0) await Promise.allSettled([...this.#uploads]);
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, roomId: string): Promise<void> {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const refuse = (status: number, code: string, message: string): void => json(status, { error: { code, message } });
    if (req.method !== 'PUT' && req.method !== 'DELETE') {
      res.setHeader('allow', 'PUT, DELETE');
      return refuse(405, 'METHOD_NOT_ALLOWED', 'method not allowed here');
    }
    const body = await readBody(req, MAX_COMMAND_BYTES).catch(() => undefined);
    if (!body) return refuse(413, 'PAYLOAD_TOO_LARGE', 'the command is too large');
    if (!this.#verify(req, body, roomId)) return refuse(401, 'UNAUTHORIZED', 'the API signature is not valid');
    const room = this.#options.rooms.get(roomId);
    try {
      if (req.method === 'DELETE') {
        const recording = this.#active.get(roomId);
        if (!recording) return refuse(404, 'NOT_FOUND', 'this room is not being recorded');
        const status = recording.status();
        void this.#finish(recording);
        return json(200, { ...status, state: 'stopped' });
      }
      const parsed = Command.safeParse(JSON.parse(body.toString('utf8') || 'null'));
      if (!parsed.success) return refuse(400, 'BAD_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      if (!room || room.closed) return refuse(404, 'NOT_FOUND', 'no such room');
      let recording = this.#active.get(roomId);
      if (recording && recording.id !== parsed.data.recordingId) return refuse(409, 'INVALID_STATE', 'another recording of this room is running');
      if (!recording) {
        if (parsed.data.state !== 'recording') return refuse(409, 'INVALID_STATE', 'a recording starts in state recording');
        // Nothing is created before everyone in the room has consented.
        const missing = room.joinedPeers().filter((p) => !parsed.data.identities.includes(p.identity)).length;
        if (missing > 0) throw new MediaServerError('CONSENT_REQUIRED', `${missing} participant(s) in the room have not consented to the recording`);
        recording = new RoomRecording({
          room,
          recordingId: parsed.data.recordingId,
          dir: path.join(this.#options.dir, parsed.data.recordingId),
          ffmpegPath: this.#options.ffmpegPath,
          ffprobePath: this.#options.ffprobePath,
          logger: this.#options.logger.child({ recordingId: parsed.data.recordingId }),
        });
        this.#active.set(roomId, recording);
      }
      return json(200, await recording.apply(parsed.data));
    } catch (error) {
      if (error instanceof MediaServerError) return refuse(409, error.code, error.message);
      if (error instanceof SyntaxError) return refuse(400, 'BAD_REQUEST', 'the body is not valid JSON');
      throw error;
    }
  }

  #verify(req: http.IncomingMessage, body: Buffer, roomId: string): boolean {
    const header = req.headers.authorization ?? '';
    if (!/^Bearer /i.test(header)) return false;
    const claims = readBodyToken({
      secret: this.#options.secret,
      issuer: RECORDING_COMMAND_ISSUER,
      audience: RECORDING_COMMAND_AUDIENCE,
      token: header.slice(7),
    });
    return claims !== undefined && claims.roomId === roomId && matchesBody(claims, body);
  }

  async #finish(recording: RoomRecording): Promise<void> {
    if (this.#active.get(recording.room.id) === recording) this.#active.delete(recording.room.id);
    const upload = (async () => {
      let finished: FinishedRecording | undefined;
      try {
        finished = await recording.stop();
      } catch (error) {
        this.#options.logger.error({ err: error, recordingId: recording.id }, 'could not finish a recording: its track files are kept');
        await this.#uploader.reportNothingRecorded(recording.id);
        return;
      }
      if (!finished) {
        this.#options.logger.info({ recordingId: recording.id }, 'recording stopped with nothing recorded');
        await this.#uploader.reportNothingRecorded(recording.id);
        return;
      }
      await this.#uploader.deliver(finished);
    })();
    this.#uploads.add(upload);
    await upload.finally(() => this.#uploads.delete(upload));
  }

  /** Stops every recording (server shutdown) and waits for the hand-overs, at most `timeoutMs`. */
  async close(timeoutMs = 20_000): Promise<void> {
    for (const recording of [...this.#active.values()]) void this.#finish(recording);
    await Promise.race([this.idle(), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }
}
