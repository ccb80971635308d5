/**
 * Machine-readable error codes shared by the media server's signaling responses and the SDK's
 * typed errors. One union, string values: codes never collide and read well in logs.
 */
export type SignalingErrorCode =
  | 'INVALID_MESSAGE'
  | 'UNKNOWN_METHOD'
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'TOKEN_EXPIRED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'INVALID_STATE'
  | 'ROOM_FULL'
  /** The media server is stopping: it keeps its running calls but opens no new room. */
  | 'DRAINING'
  | 'RATE_LIMITED'
  /** Recording refused: someone in the room has not consented to it. */
  | 'CONSENT_REQUIRED'
  | 'TIMEOUT'
  | 'INTERNAL';

/** The error half of a signaling response. */
export interface SignalingErrorBody {
  code: SignalingErrorCode;
  message: string;
}

/**
 * WebSocket close codes the media server uses (4000-4999 is the application range). The close
 * reason carries the {@link SignalingErrorCode}.
 */
export const CloseCode = {
  /** Missing, forged or expired room token: do not retry with the same token. */
  Unauthorized: 4401,
  /** The token is valid but the room refused the participant (full, closed). */
  Refused: 4403,
  /** Removed by a room admin. */
  Removed: 4409,
  /** The room ended. */
  RoomClosed: 4410,
  /** The same identity joined again from another connection. */
  Replaced: 4411,
  /** The server lost the session (its worker died): connect again with the same token and republish. */
  Rejoin: 4412,
  /** The room reached its maximum duration. */
  MaxDuration: 4413,
  /** Protocol abuse: oversized or too many messages. */
  PolicyViolation: 1008,
  /** Server shutting down; the client may reconnect. */
  GoingAway: 1001,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
