import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ApiErrorCode } from '@telemed/sdk';

export type { ApiErrorCode };

/** The HTTP status each error code is answered with. */
export const ERROR_STATUS: Readonly<Record<ApiErrorCode, number>> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  VALIDATION_FAILED: 422,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  NOT_IMPLEMENTED: 501,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

const CODE_FOR_STATUS = new Map(Object.entries(ERROR_STATUS).map(([code, status]) => [status, code as ApiErrorCode]));

/** The error code of an HTTP status: its own where the API has one, else the class's (400 or 500). */
export function errorCodeFor(status: number): ApiErrorCode {
  return CODE_FOR_STATUS.get(status) ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL');
}

/** The JSON error body, as a string for the places that write raw responses. */
export function errorBody(code: ApiErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** The API's one error type: rendered as `{ error: { code, message, details? } }`. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ApiErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = details;
  }
}

/** Turns every thrown error into the JSON error shape; anything unexpected is a 500 without internals. */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new ApiError('NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
      // Answers made without a body (the router's 405 and 501) get the error shape too.
      if (ctx.status >= 400 && (ctx.body === undefined || ctx.body === null))
        throw new ApiError(errorCodeFor(ctx.status), `${ctx.method} ${ctx.path}: ${ctx.message.toLowerCase()}`);
    } catch (error) {
      let apiError: ApiError;
      if (error instanceof ApiError) apiError = error;
      else if (error instanceof z.ZodError) {
        apiError = new ApiError(
          'VALIDATION_FAILED',
          'the request is invalid',
          error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        );
      } else if (isHttpError(error) && error.status < 500) {
        apiError = new ApiError(errorCodeFor(error.status), error.expose ? error.message : 'bad request');
      } else if (isAbortedRequest(error)) {
        // The client went away in the middle of its body: nobody reads the answer, nothing to log as a fault.
        apiError = new ApiError('BAD_REQUEST', 'the request body was cut short');
      } else {
        logger.error({ err: error, method: ctx.method, path: ctx.path }, 'unhandled error');
        apiError = new ApiError('INTERNAL', 'internal server error');
      }
      ctx.status = apiError.status;
      const retryAfter = (apiError.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
      if (apiError.code === 'RATE_LIMITED' && typeof retryAfter === 'number') ctx.set('retry-after', String(retryAfter));
      ctx.body = { error: { code: apiError.code, message: apiError.message, ...(apiError.details !== undefined ? { details: apiError.details } : {}) } };
    }
  };
}

function isAbortedRequest(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ECONNRESET';
}

function isHttpError(error: unknown): error is { status: number; expose?: boolean; message: string } {
  return typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number';
}
