/** Every code a server SDK error carries. */
export type TelemedServerErrorCode =
  /** The webhook's signature header is missing or not `t=…,v1=…`, or its body is not a webhook event. */
  | 'WEBHOOK_MALFORMED'
  /** No `v1` signature matches the body with this secret: forged, altered, or another endpoint's secret. */
  | 'WEBHOOK_SIGNATURE_INVALID'
  /** The signature's timestamp is outside the tolerance: a replay, or a clock far off. */
  | 'WEBHOOK_TIMESTAMP_OUT_OF_RANGE'
  /**
   * Authentic (signature and time checked) but of an event type this SDK version does not know: the
   * platform is newer. Acknowledge it with a 2xx so the platform does not retry it, or upgrade.
   */
  | 'WEBHOOK_UNKNOWN_TYPE'
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

/** An authentic webhook event of a type this SDK version does not know. */
export interface UnknownWebhookEvent {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
}

/**
 * A webhook that must not be trusted (`code` says why), or, with `WEBHOOK_UNKNOWN_TYPE`, an
 * authentic one this SDK cannot type: then `event` holds it.
 */
export class WebhookVerificationError extends TelemedServerError {
  /** The authentic event, only with `WEBHOOK_UNKNOWN_TYPE`. */
  readonly event: UnknownWebhookEvent | undefined;

  constructor(
    code: 'WEBHOOK_MALFORMED' | 'WEBHOOK_SIGNATURE_INVALID' | 'WEBHOOK_TIMESTAMP_OUT_OF_RANGE' | 'WEBHOOK_UNKNOWN_TYPE',
    message: string,
    event?: UnknownWebhookEvent,
  ) {
    super(code, message);
    this.name = 'WebhookVerificationError';
    this.event = event;
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
