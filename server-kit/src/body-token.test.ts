import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { bodyHash, matchesBody, readBodyToken, signBodyToken } from './body-token.js';

const parties = { issuer: 'telemed-media', audience: 'telemed-api' };
const secret = 'body-token-test-secret-0123456789';

describe('body tokens', () => {
  it('carries the body hash and the extra claims, for the audience it names', () => {
    const token = signBodyToken({ ...parties, secret, body: '{"a":1}', expiresInSeconds: 60, claims: { roomId: 'r1', sha256: 'ignored' } });
    const claims = readBodyToken({ ...parties, secret, token });
    expect(claims).toMatchObject({ iss: 'telemed-media', aud: 'telemed-api', roomId: 'r1', sha256: bodyHash('{"a":1}') });
    expect(claims && matchesBody(claims, Buffer.from('{"a":1}'))).toBe(true);
    expect(claims && matchesBody(claims, '{"a":2}')).toBe(false);
    expect(claims && matchesBody(claims, '')).toBe(false);
  });

  it('hashes an empty body like any other', () => {
    const claims = readBodyToken({ ...parties, secret, token: signBodyToken({ ...parties, secret, body: '', expiresInSeconds: 60 }) });
    expect(claims && matchesBody(claims, Buffer.alloc(0))).toBe(true);
  });

  it('refuses another secret, issuer or audience, an expired token, and garbage', () => {
    const token = signBodyToken({ ...parties, secret, body: 'x', expiresInSeconds: 60 });
    expect(readBodyToken({ ...parties, secret: `${secret}-other`, token })).toBeUndefined();
    expect(readBodyToken({ ...parties, issuer: 'telemed-api', secret, token })).toBeUndefined();
    expect(readBodyToken({ ...parties, audience: 'telemed-media-recording', secret, token })).toBeUndefined();
    expect(readBodyToken({ ...parties, secret, token: signBodyToken({ ...parties, secret, body: 'x', expiresInSeconds: -1 }) })).toBeUndefined();
    expect(readBodyToken({ ...parties, secret, token: 'not.a.token' })).toBeUndefined();
    expect(readBodyToken({ ...parties, secret, token: '' })).toBeUndefined();
  });

  it('refuses a token with no expiry, no body hash, another algorithm or a string payload', () => {
    const sign = (payload: string | object, options: jwt.SignOptions = {}) => jwt.sign(payload, secret, { algorithm: 'HS256', ...options });
    expect(readBodyToken({ ...parties, secret, token: sign({ sha256: bodyHash('x') }, parties) })).toBeUndefined();
    expect(readBodyToken({ ...parties, secret, token: sign({}, { ...parties, expiresIn: 60 }) })).toBeUndefined();
    expect(readBodyToken({ ...parties, secret, token: sign({ sha256: 1 }, { ...parties, expiresIn: 60 }) })).toBeUndefined();
    expect(
      readBodyToken({ ...parties, secret, token: jwt.sign({ sha256: bodyHash('x') }, secret, { algorithm: 'HS512', ...parties, expiresIn: 60 }) }),
    ).toBeUndefined();
    expect(readBodyToken({ ...parties, secret, token: sign('just a string') })).toBeUndefined();
  });
});
