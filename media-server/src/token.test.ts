import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { MediaServerError } from './errors.js';
import { verifyRoomToken } from './token.js';

const SECRET = 'a-test-secret-of-enough-length';
const grants = { canPublish: true, canSubscribe: true, canPublishData: false, roomAdmin: false };
const sign = (claims: object, options: jwt.SignOptions = {}, secret = SECRET): string =>
  jwt.sign({ room: 'r1', grants, ...claims }, secret, { subject: 'alice', issuer: 'telemed-api', audience: 'telemed-media', expiresIn: 60, ...options });

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof MediaServerError ? error.code : 'not a MediaServerError';
  }
}

describe('verifyRoomToken', () => {
  it('returns the claims of a valid token', () => {
    const claims = verifyRoomToken(sign({ name: 'Alice' }), SECRET);
    expect(claims).toMatchObject({ room: 'r1', sub: 'alice', name: 'Alice', grants });
  });

  it('refuses a missing token', () => {
    expect(codeOf(() => verifyRoomToken(undefined, SECRET))).toBe('UNAUTHORIZED');
    expect(codeOf(() => verifyRoomToken('', SECRET))).toBe('UNAUTHORIZED');
  });

  it('refuses a token signed with another secret', () => {
    expect(codeOf(() => verifyRoomToken(sign({}, {}, 'another-secret-of-enough-length'), SECRET))).toBe('UNAUTHORIZED');
  });

  it('says when a token has expired', () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = jwt.sign({ room: 'r1', grants, iat: now - 120, exp: now - 60 }, SECRET, {
      subject: 'alice',
      issuer: 'telemed-api',
      audience: 'telemed-media',
    });
    expect(codeOf(() => verifyRoomToken(expired, SECRET))).toBe('TOKEN_EXPIRED');
  });

  it('refuses other audiences, the none algorithm and tokens without grants', () => {
    expect(codeOf(() => verifyRoomToken(sign({}, { audience: 'someone-else' }), SECRET))).toBe('UNAUTHORIZED');
    const unsigned = jwt.sign({ room: 'r1', grants }, '', { algorithm: 'none', subject: 'alice', issuer: 'telemed-api', audience: 'telemed-media' });
    expect(codeOf(() => verifyRoomToken(unsigned, SECRET))).toBe('UNAUTHORIZED');
    const noGrants = jwt.sign({ room: 'r1' }, SECRET, { subject: 'alice', issuer: 'telemed-api', audience: 'telemed-media', expiresIn: 60 });
    expect(codeOf(() => verifyRoomToken(noGrants, SECRET))).toBe('UNAUTHORIZED');
  });

  it('accepts HS256 only, also with the key made once from the secret', () => {
    expect(verifyRoomToken(sign({}, { algorithm: 'HS256' }), SECRET).sub).toBe('alice');
    expect(codeOf(() => verifyRoomToken(sign({}, { algorithm: 'HS512' }), SECRET))).toBe('UNAUTHORIZED');
    expect(codeOf(() => verifyRoomToken(sign({}, { algorithm: 'HS384' }), SECRET))).toBe('UNAUTHORIZED');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(codeOf(() => verifyRoomToken(sign({}, { algorithm: 'RS256' }, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), SECRET))).toBe(
      'UNAUTHORIZED',
    );
  });
});
