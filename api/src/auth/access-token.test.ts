import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../http/errors.js';
import { signAccessToken, verifyAccessToken } from './access-token.js';

const SECRET = 'an-access-token-secret-of-enough-length';
const user = { id: '00000000-0000-4000-8000-000000000001', role: 'doctor' as const };
const SESSION = '00000000-0000-4000-8000-0000000000aa';
const claims = { subject: user.id, issuer: 'telemed-api', audience: 'telemed-app', expiresIn: 60 };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof ApiError ? error.code : 'not an ApiError';
  }
}

describe('access tokens', () => {
  it('verifies what it signs (HS256 with the key made once from the secret)', () => {
    const token = signAccessToken(SECRET, user, SESSION, 60);
    expect(jwt.decode(token, { complete: true })?.header.alg).toBe('HS256');
    expect(verifyAccessToken(SECRET, token)).toEqual({ user, sessionId: SESSION, expiresAtMs: expect.any(Number) });
    expect(verifyAccessToken(SECRET, jwt.sign({ role: 'doctor', sid: SESSION }, SECRET, { ...claims, algorithm: 'HS256' })).user).toEqual(user);
    // A token without a session id cannot be revoked: refused.
    expect(codeOf(() => verifyAccessToken(SECRET, jwt.sign({ role: 'doctor' }, SECRET, { ...claims, algorithm: 'HS256' })))).toBe('UNAUTHORIZED');
  });

  it('refuses every algorithm but HS256, none included, and another secret', () => {
    for (const algorithm of ['HS384', 'HS512'] as const) {
      expect(codeOf(() => verifyAccessToken(SECRET, jwt.sign({ role: 'doctor', sid: SESSION }, SECRET, { ...claims, algorithm })))).toBe('UNAUTHORIZED');
    }
    const unsigned = jwt.sign({ role: 'doctor', sid: SESSION }, '', { ...claims, algorithm: 'none' });
    expect(codeOf(() => verifyAccessToken(SECRET, unsigned))).toBe('UNAUTHORIZED');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(codeOf(() => verifyAccessToken(SECRET, jwt.sign({ role: 'doctor', sid: SESSION }, privateKey, { ...claims, algorithm: 'RS256' })))).toBe(
      'UNAUTHORIZED',
    );
    expect(codeOf(() => verifyAccessToken(SECRET, signAccessToken('another-secret-of-enough-length', user, SESSION, 60)))).toBe('UNAUTHORIZED');
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('a token verified before still expires, and a forged twin of it is refused', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const token = signAccessToken(SECRET, user, SESSION, 2);
    expect(verifyAccessToken(SECRET, token).user).toEqual(user);
    expect(verifyAccessToken(SECRET, token).user).toEqual(user);
    const at = token.lastIndexOf('.') + 5;
    const forged = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    expect(codeOf(() => verifyAccessToken(SECRET, forged))).toBe('UNAUTHORIZED');
    expect(codeOf(() => verifyAccessToken('another-secret-of-enough-length', token))).toBe('UNAUTHORIZED');
    vi.setSystemTime(Date.now() + 3000);
    expect(() => verifyAccessToken(SECRET, token)).toThrow(/expired/);
  });
});
