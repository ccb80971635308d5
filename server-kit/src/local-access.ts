import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** A loopback client address as Node reports it (IPv4 127/8, IPv6 ::1, or IPv4-mapped). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || (isIP(v4) === 4 && v4.startsWith('127.'));
}

/** A listen address only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host.replace(/^\[|\]$/g, ''));
}

/** Whether `given` equals the shared secret, compared in constant time (no timing hint of a prefix). */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether an Authorization header carries `Bearer <secret>`; false without a secret. */
export function bearerMatches(authorization: string | undefined, secret: string | undefined): boolean {
  const header = authorization ?? '';
  if (!secret || !/^Bearer /i.test(header)) return false;
  return sameSecret(header.slice('Bearer '.length), secret);
}
