import { RECORDING_COMMAND_AUDIENCE, RECORDING_COMMAND_ISSUER, type RecordingCommand, type RecordingStatus } from '@telemed/sdk/protocol';
import { signBodyToken } from '@telemed/server-kit';

/** Why the media server did not take a recording command. */
export class MediaRecordingError extends Error {
  override readonly name = 'MediaRecordingError';
  /** The media server's error code (`CONSENT_REQUIRED`, `NOT_FOUND`, ...), or `UNREACHABLE`. */
  readonly code: string;
  readonly status: number;

  constructor(code: string, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = status;
  }
}

export interface MediaRecordingClientOptions {
  /** The media server's HTTP base (MEDIA_INTERNAL_URL). */
  url: string;
  /** MEDIA_WEBHOOK_SECRET, shared with the media server. */
  secret: string;
  timeoutMs?: number;
}

/** Signed recording commands to the media server (see sdk/src/protocol/recording.ts). */
export class MediaRecordingClient {
  readonly #options: MediaRecordingClientOptions;

  constructor(options: MediaRecordingClientOptions) {
    this.#options = options;
  }

  /** Sets the wanted state; CONSENT_REQUIRED when someone in the room is not among `identities`. */
  apply(roomId: string, command: RecordingCommand): Promise<RecordingStatus> {
    return this.#send('PUT', roomId, JSON.stringify(command));
  }

  /** Stops the room's recording; the media server then uploads the file. */
  stop(roomId: string): Promise<RecordingStatus> {
    return this.#send('DELETE', roomId, '');
  }

  async #send(method: 'PUT' | 'DELETE', roomId: string, body: string): Promise<RecordingStatus> {
    const token = signBodyToken({
      secret: this.#options.secret,
      issuer: RECORDING_COMMAND_ISSUER,
      audience: RECORDING_COMMAND_AUDIENCE,
      body,
      expiresInSeconds: 60,
      claims: { roomId },
    });
    let res: Response;
    try {
      res = await fetch(new URL(`/rooms/${encodeURIComponent(roomId)}/recording`, this.#options.url), {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: body || null,
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new MediaRecordingError('UNREACHABLE', 503, 'the media server is not reachable', { cause: error });
    }
    const answer = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | RecordingStatus | undefined;
    if (!res.ok) {
      const error = answer && 'error' in answer ? answer.error : undefined;
      throw new MediaRecordingError(error?.code ?? 'INTERNAL', res.status, error?.message ?? `the media server answered ${res.status}`);
    }
    return answer as RecordingStatus;
  }
}
