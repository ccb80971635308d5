import type { ApiErrorCode } from './client/api-types.js';
import { CloseCode, type SignalingErrorCode } from './protocol/errors.js';

/** Every error code the SDK raises: the signaling codes, the REST API's, and the client's own. */
export type TelemedErrorCode =
  | SignalingErrorCode
  | ApiErrorCode
  | ApiRequestErrorCode
  | 'CONNECTION_FAILED'
  | 'CONNECTION_REFUSED'
  | 'CONNECTION_CLOSED'
  | 'DEVICE_NOT_FOUND'
  | 'DEVICE_BUSY'
  | 'PERMISSION_DENIED'
  | 'UNSUPPORTED_BROWSER';

/**
 * An API request's codes besides the API's own: `NETWORK` when no answer came, `CORS_BLOCKED` when
 * the API answered but its CORS settings do not allow this page's origin.
 */
export type ApiRequestErrorCode = 'NETWORK' | 'CORS_BLOCKED';

/** The SDK's one error base: a string `code` from {@link TelemedErrorCode} and an optional `cause`. */
export class TelemedError extends Error {
  readonly code: TelemedErrorCode;

  constructor(code: TelemedErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TelemedError';
    this.code = code;
  }
}

/** A signaling request the server answered with an error. */
export class SignalingError extends TelemedError {
  readonly method: string;

  constructor(code: SignalingErrorCode, message: string, method: string) {
    super(code, message);
    this.name = 'SignalingError';
    this.method = method;
  }
}

/** Why a connection failed or ended. */
export type ConnectionErrorReason =
  | 'timeout'
  | 'refused'
  | 'unauthorized'
  | 'closed'
  | 'network'
  /** A room admin or the platform's server API removed this participant: the SDK does not reconnect. */
  | 'removed';

/** Connecting to the media server failed, or the connection ended. */
export class ConnectionError extends TelemedError {
  readonly reason: ConnectionErrorReason;
  /** The server's code when it refused or ended the connection (`TOKEN_EXPIRED`, `ROOM_FULL`, `REMOVED`, ...). */
  readonly serverCode: string | undefined;
  /** The WebSocket close code, when the socket closed (see `CloseCode`). */
  readonly closeCode: number | undefined;

  private constructor(code: TelemedErrorCode, reason: ConnectionErrorReason, message: string, serverCode?: string, cause?: unknown, closeCode?: number) {
    super(code, message, { cause });
    this.name = 'ConnectionError';
    this.reason = reason;
    this.serverCode = serverCode;
    this.closeCode = closeCode;
  }

  static timeout(message: string): ConnectionError {
    return new ConnectionError('TIMEOUT', 'timeout', message);
  }

  static unauthorized(serverCode: string): ConnectionError {
    const message = serverCode === 'TOKEN_EXPIRED' ? 'the room token has expired' : 'the room token was refused';
    return new ConnectionError(serverCode === 'TOKEN_EXPIRED' ? 'TOKEN_EXPIRED' : 'UNAUTHORIZED', 'unauthorized', message, serverCode);
  }

  static refused(serverCode: string): ConnectionError {
    return new ConnectionError('CONNECTION_REFUSED', 'refused', `the media server refused the connection (${serverCode})`, serverCode);
  }

  static closed(code: number, reason: string): ConnectionError {
    return new ConnectionError(
      'CONNECTION_CLOSED',
      'closed',
      `the signaling connection closed (${code}${reason ? ` ${reason}` : ''})`,
      reason || undefined,
      undefined,
      code,
    );
  }

  /** Removed from the room (close code 4409): the same room token cannot join again. */
  static removed(serverCode: string): ConnectionError {
    const code = serverCode || 'REMOVED';
    return new ConnectionError('CONNECTION_CLOSED', 'removed', `removed from the room (${CloseCode.Removed} ${code})`, code, undefined, CloseCode.Removed);
  }

  static network(message: string, cause?: unknown): ConnectionError {
    return new ConnectionError('CONNECTION_FAILED', 'network', message, undefined, cause);
  }

  /** Joining gave up: each of its `attempts` timed out (the last timeout is the cause). */
  static joinTimedOut(attempts: number, cause: unknown): ConnectionError {
    return new ConnectionError('TIMEOUT', 'timeout', `could not join: no answer from the media server in ${attempts} attempts`, undefined, cause);
  }

  /** Reconnection gave up after its attempts. */
  static reconnectFailed(attempts: number, cause?: unknown): ConnectionError {
    return new ConnectionError('CONNECTION_FAILED', 'network', `could not reconnect after ${attempts} attempts`, undefined, cause);
  }
}

/** Camera, microphone or screen capture could not be opened. */
export class DeviceError extends TelemedError {
  constructor(code: 'DEVICE_NOT_FOUND' | 'DEVICE_BUSY', message: string, cause?: unknown) {
    super(code, message, { cause });
    this.name = 'DeviceError';
  }
}

/** The user or the browser denied access to a device. */
export class PermissionError extends TelemedError {
  constructor(message: string, cause?: unknown) {
    super('PERMISSION_DENIED', message, { cause });
    this.name = 'PermissionError';
  }
}

/** This browser cannot make calls: WebRTC is missing or too old (see `checkBrowserSupport()`). */
export class UnsupportedBrowserError extends TelemedError {
  /** What is missing, in words (e.g. `WebRTC (RTCPeerConnection)`). */
  readonly missing: readonly string[];

  constructor(message: string, missing: readonly string[]) {
    super('UNSUPPORTED_BROWSER', message);
    this.name = 'UnsupportedBrowserError';
    this.missing = missing;
  }
}

/** Turns a getUserMedia/getDisplayMedia rejection into a typed SDK error. */
export function deviceErrorFrom(error: unknown, what: string): TelemedError {
  const name = error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return new PermissionError(`permission to use the ${what} was denied`, error);
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return new DeviceError('DEVICE_NOT_FOUND', `no ${what} found`, error);
  if (name === 'NotReadableError' || name === 'AbortError') return new DeviceError('DEVICE_BUSY', `the ${what} is in use or could not be started`, error);
  return new DeviceError('DEVICE_BUSY', `could not open the ${what}: ${error instanceof Error ? error.message : String(error)}`, error);
}
