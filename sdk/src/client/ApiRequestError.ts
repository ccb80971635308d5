import { TelemedError, type ApiRequestErrorCode } from '../errors.js';
import type { ApiErrorCode } from './api-types.js';

/**
 * The API answered with an error (`{ error: { code, message, details? } }`), could not be reached
 * (`NETWORK`), or refused this page's origin (`CORS_BLOCKED`: add the origin to the API's CORS_ORIGINS).
 */
export class ApiRequestError extends TelemedError {
  declare readonly code: ApiErrorCode | ApiRequestErrorCode;
  /** HTTP status; 0 when no answer came (or CORS kept it from the page). */
  readonly status: number;
  readonly details: unknown;

  constructor(code: ApiErrorCode | ApiRequestErrorCode, status: number, message: string, details?: unknown, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ApiRequestError';
    this.status = status;
    this.details = details;
  }
}
