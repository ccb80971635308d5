import type { SignalingErrorCode } from '@telemed/sdk/protocol';

/** The media server's one error base: a signaling error code the client can act on, and a cause. */
export class MediaServerError extends Error {
  override readonly name = 'MediaServerError';
  readonly code: SignalingErrorCode;

  constructor(code: SignalingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  static badRequest(message: string): MediaServerError {
    return new MediaServerError('BAD_REQUEST', message);
  }

  static forbidden(message: string): MediaServerError {
    return new MediaServerError('FORBIDDEN', message);
  }

  static notFound(what: string, id: string): MediaServerError {
    return new MediaServerError('NOT_FOUND', `${what} ${id} not found`);
  }

  static invalidState(message: string): MediaServerError {
    return new MediaServerError('INVALID_STATE', message);
  }
}
