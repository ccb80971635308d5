/** Every code a server SDK error carries. */
export type TelemedServerErrorCode =
  /** The webhook's signature header is missing or not `t=…,v1=…`, or its body is not a webhook event. */
  | 'WEBHOOK_MALFORMED'
  /** No `v1` signature matches the body with this secret: forged, altered, or another endpoint's secret. */
  | 'WEBHOOK_SIGNATURE_INVALID'
  /** The signature's timestamp is outside the tolerance: a replay, or a clock far off. */
  | 'WEBHOOK_TIMESTAMP_OUT_OF_RANGE'
  /** The API answered with an error (`status`, and the API's own `apiCode`). */
  | 'API_ERROR'
  /** The API could not be reached or did not answer in time. */
  | 'NETWORK_ERROR'
  /** A method was called with options it cannot use. */
  | 'INVALID_ARGUMENT';

/** The root of every error the server SDK throws. */
export class TelemedServerError extends Error {
  readonly code: TelemedServerErrorCode;

  constructor(code: TelemedServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TelemedServerError';
    this.code = code;
  }
}

/** A webhook that must not be trusted (`code` says why). */
export class WebhookVerificationError extends TelemedServerError {
  constructor(code: 'WEBHOOK_MALFORMED' | 'WEBHOOK_SIGNATURE_INVALID' | 'WEBHOOK_TIMESTAMP_OUT_OF_RANGE', message: string) {
    super(code, message);
    this.name = 'WebhookVerificationError';
  }
}

/** The API refused or failed a request: `status` is the HTTP status, `apiCode` the API's error code (`UNAUTHORIZED`, `FORBIDDEN`…). */
export class ApiResponseError extends TelemedServerError {
  readonly status: number;
  readonly apiCode: string;

  constructor(status: number, apiCode: string, message: string) {
    super('API_ERROR', `${status} ${apiCode}: ${message}`);
    this.name = 'ApiResponseError';
    this.status = status;
    this.apiCode = apiCode;
  }
}
