/**
 * Call recording between the API and the media server (the API owns consent; the media server
 * records only what the API allows and refuses anything else).
 *
 * API → media server: `PUT {media}/rooms/:roomId/recording` with {@link RecordingCommand} sets the
 * wanted state (idempotent); `DELETE {media}/rooms/:roomId/recording` stops it and hands the file
 * over. Both carry `Authorization: Bearer <JWT>` signed HS256 with MEDIA_WEBHOOK_SECRET,
 * `iss: 'telemed-api'`, `aud: 'telemed-media-recording'`, `sha256` of the body (empty for DELETE)
 * and `roomId`.
 *
 * Media server → API: `POST {API}/internal/recordings/:recordingId/file`, the muxed Matroska file
 * as the body; the JWT (`iss: 'telemed-media'`, `aud: 'telemed-api-recording'`) carries `sha256`
 * of the body and the {@link RecordingManifest} in `manifest`.
 */
export const RECORDING_COMMAND_ISSUER = 'telemed-api';
export const RECORDING_COMMAND_AUDIENCE = 'telemed-media-recording';
export const RECORDING_UPLOAD_AUDIENCE = 'telemed-api-recording';

export interface RecordingCommand {
  recordingId: string;
  /** `recording`: record the tracks of `identities`; `paused`: keep the recorders, forward nothing. */
  state: 'recording' | 'paused';
  /**
   * Identities that consented. The media server refuses `recording` (409 CONSENT_REQUIRED) while
   * someone else is in the room, and pauses by itself when someone else joins.
   */
  identities: string[];
}

/** What the media server answers to PUT and DELETE. */
export interface RecordingStatus {
  recordingId: string;
  state: 'recording' | 'paused' | 'stopped';
  /** Tracks recorded so far (one recorder process each). */
  tracks: number;
  /** Recorder restarts after a recorder process died. */
  restarts: number;
}

/** A span of a recorded track missing because its recorder process died, ms since the recording began. */
export interface RecordingGap {
  trackId: string;
  fromMs: number;
  toMs: number;
}

export interface RecordingManifest {
  recordingId: string;
  roomId: string;
  startedAt: string;
  stoppedAt: string;
  durationMs: number;
  /** Every recorded track (the file has one video stream per video segment and one mixed audio stream). */
  tracks: Array<{ trackId: string; identity: string; kind: 'audio' | 'video'; codec: string; segments: number }>;
  gaps: RecordingGap[];
  /** Whether the muxing job had to transcode (mixing several audio tracks does). */
  transcoded: boolean;
}
