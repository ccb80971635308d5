import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { isIP } from 'node:net';

/** True when the request carries `Authorization: Bearer <secret>` (compared in constant time); false without a secret. */
export function bearerMatches(req: http.IncomingMessage, secret: string | undefined): boolean {
  const header = req.headers.authorization ?? '';
  if (!secret || !/^Bearer /i.test(header)) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const expected = Buffer.from(secret);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** True when the request came from this host (the socket's address, never a forwarded header). */
export function fromLoopback(req: http.IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? '';
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || (isIP(v4) === 4 && v4.startsWith('127.'));
}
