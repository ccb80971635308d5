import type { ApiErrorCode } from './api-types.js';

/** The API answered with an error (`{ error: { code, message, details? } }`) or could not be reached. */
export class ApiRequestError extends Error {
  /** The API's code, or `NETWORK` when no answer came. */
  readonly code: ApiErrorCode | 'NETWORK';
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  readonly details: unknown;

  constructor(code: ApiErrorCode | 'NETWORK', status: number, message: string, details?: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiRequestError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}
