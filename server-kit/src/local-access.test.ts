import { describe, expect, it } from 'vitest';
import { bearerMatches, isLoopbackAddress, isLoopbackHost, sameSecret } from './local-access.js';

describe('isLoopbackAddress', () => {
  it('accepts IPv4 127/8, ::1 and IPv4-mapped loopback; refuses the rest', () => {
    for (const address of ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(address)).toBe(true);
    for (const address of [undefined, '', '10.0.0.1', '::ffff:10.0.0.1', '::2', '128.0.0.1', 'localhost', '127.0.0.1.example'])
      expect(isLoopbackAddress(address)).toBe(false);
  });
});

describe('isLoopbackHost', () => {
  it('accepts localhost and bracketed IPv6 loopback; refuses wildcard and public listen addresses', () => {
    for (const host of ['localhost', '127.0.0.1', '[::1]', '::1']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.0.2.1', 'example.org']) expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('sameSecret and bearerMatches', () => {
  it('match only the exact secret', () => {
    expect(sameSecret('s3cret', 's3cret')).toBe(true);
    expect(sameSecret('s3cre', 's3cret')).toBe(false);
    expect(sameSecret('s3cret!', 's3cret')).toBe(false);
    expect(sameSecret('', '')).toBe(true);
  });

  it('read "Bearer <secret>" (scheme case-insensitive) and refuse without a configured secret', () => {
    expect(bearerMatches('Bearer s3cret', 's3cret')).toBe(true);
    expect(bearerMatches('bearer s3cret', 's3cret')).toBe(true);
    expect(bearerMatches('Bearer s3cret', undefined)).toBe(false);
    expect(bearerMatches('Bearer ', '')).toBe(false);
    expect(bearerMatches('Basic s3cret', 's3cret')).toBe(false);
    expect(bearerMatches(undefined, 's3cret')).toBe(false);
    expect(bearerMatches('Bearer wrong', 's3cret')).toBe(false);
  });
});
