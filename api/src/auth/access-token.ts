import jwt from 'jsonwebtoken';
import { ApiError } from '../http/errors.js';
import type { AuthUser } from '../http/route.js';
import type { Role } from '../user/user.table.js';
import { hmacKey } from '@telemed/server-kit';

const ISSUER = 'telemed-api';
const AUDIENCE = 'telemed-app';
const ROLES: readonly Role[] = ['patient', 'doctor', 'admin'];

/** What a valid access token says: who, which session (its refresh-token family) and until when. */
export interface VerifiedAccessToken {
  user: AuthUser;
  sessionId: string;
  expiresAtMs: number;
}

export function signAccessToken(secret: string, user: AuthUser, sessionId: string, ttlSeconds: number): string {
  return jwt.sign({ role: user.role, sid: sessionId }, hmacKey(secret), {
    algorithm: 'HS256',
    subject: user.id,
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: ttlSeconds,
  });
}

/** Tokens verified per secret: a client sends the same token on every request until it expires. */
const verified = new Map<string, Map<string, VerifiedAccessToken>>();
const MAX_VERIFIED = 10_000;

const copy = (token: VerifiedAccessToken): VerifiedAccessToken => ({ ...token, user: { ...token.user } });

/**
 * Verifies an access token's signature, claims and expiry; 401 when it is missing, forged or
 * expired. Whether its session is still open is the SessionGuard's question. A token verified
 * before is only checked for expiry again (its signature and claims cannot have changed):
 * jsonwebtoken's HMAC, decoding and claim checks are a visible share of a cheap request.
 */
export function verifyAccessToken(secret: string, token: string): VerifiedAccessToken {
  let tokens = verified.get(secret);
  const known = tokens?.get(token);
  if (known) {
    if (Date.now() < known.expiresAtMs) return copy(known);
    tokens!.delete(token);
  }
  try {
    const claims = jwt.verify(token, hmacKey(secret), { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }) as jwt.JwtPayload;
    const role = claims.role as Role;
    // Tokens without a session id (signed before sessions were revocable) are refused: the client refreshes.
    if (typeof claims.sub !== 'string' || !ROLES.includes(role) || typeof claims.exp !== 'number' || typeof claims.sid !== 'string')
      throw new Error('bad claims');
    const result: VerifiedAccessToken = { user: { id: claims.sub, role }, sessionId: claims.sid, expiresAtMs: claims.exp * 1000 };
    if (!tokens) {
      if (verified.size >= 32) verified.clear();
      verified.set(secret, (tokens = new Map()));
    }
    if (tokens.size >= MAX_VERIFIED) tokens.clear();
    tokens.set(token, result);
    return copy(result);
  } catch (error) {
    const expired = error instanceof jwt.TokenExpiredError;
    throw new ApiError('UNAUTHORIZED', expired ? 'the access token has expired; refresh it' : 'the access token is not valid');
  }
}

/** The bearer token of a request (auth is never a cookie: see README's security section). */
export function bearerToken(header: string | undefined): string {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header ?? '');
  if (!match) throw new ApiError('UNAUTHORIZED', 'send Authorization: Bearer <access token>');
  return match[1]!;
}
