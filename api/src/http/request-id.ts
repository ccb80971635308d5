import { randomUUID } from 'node:crypto';

/** The caller's `X-Request-Id` when it looks like one (so a proxy's id follows the request), else a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given && /^[A-Za-z0-9-]{8,64}$/.test(given) ? given : randomUUID();
}
