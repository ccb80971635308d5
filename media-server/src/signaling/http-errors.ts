/** The error codes of the media server's HTTP answers, by status. */
const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  431: 'HEADERS_TOO_LARGE',
  500: 'INTERNAL',
  503: 'SERVICE_UNAVAILABLE',
};

/** The media server's error code for an HTTP status. */
export function errorCodeFor(status: number): string {
  return CODES[status] ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL');
}

/** `{ error: { code, message } }`, the body of every refusal. */
export function errorJson(status: number, message: string): { error: { code: string; message: string } } {
  return { error: { code: errorCodeFor(status), message } };
}
