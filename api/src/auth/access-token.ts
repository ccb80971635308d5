import jwt from 'jsonwebtoken';
import { ApiError } from '../http/errors.js';
import type { AuthUser } from '../http/route.js';
import type { Role } from '../user/user.table.js';
import { hmacKey } from './hmac-key.js';

const ISSUER = 'telemed-api';
const AUDIENCE = 'telemed-app';
const ROLES: readonly Role[] = ['patient', 'doctor', 'admin'];

export function signAccessToken(secret: string, user: AuthUser, ttlSeconds: number): string {
  return jwt.sign({ role: user.role }, hmacKey(secret), { algorithm: 'HS256', subject: user.id, issuer: ISSUER, audience: AUDIENCE, expiresIn: ttlSeconds });
}

/** Verifies an access token; 401 when it is missing, forged or expired. */
export function verifyAccessToken(secret: string, token: string): AuthUser {
  try {
    const claims = jwt.verify(token, hmacKey(secret), { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }) as jwt.JwtPayload;
    const role = claims.role as Role;
    if (typeof claims.sub !== 'string' || !ROLES.includes(role)) throw new Error('bad claims');
    return { id: claims.sub, role };
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
