import { createHash } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { hmacKey } from './hmac-key.js';

/**
 * The bearer token of a server-to-server request (media server ⇄ API): an HS256 JWT from a shared
 * secret whose `sha256` claim is the base64url SHA-256 of the exact body bytes, so a token seen in
 * transit cannot carry another body. Who signs and who may read it are the issuer and audience.
 */
export interface BodyTokenParties {
  issuer: string;
  audience: string;
}

export interface SignBodyTokenOptions extends BodyTokenParties {
  secret: string;
  /** The exact bytes sent; an empty string for a request without a body. */
  body: string | Uint8Array;
  expiresInSeconds: number;
  /** More claims to carry (a room id, a manifest); `sha256` is always the body's. */
  claims?: Record<string, unknown>;
}

export interface ReadBodyTokenOptions extends BodyTokenParties {
  secret: string;
  token: string;
}

/** What a verified token says; `sha256` still has to match the body (`matchesBody`). */
export type BodyTokenClaims = jwt.JwtPayload & { sha256: string };

export function bodyHash(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url');
}

export function signBodyToken(options: SignBodyTokenOptions): string {
  return jwt.sign({ ...options.claims, sha256: bodyHash(options.body) }, hmacKey(options.secret), {
    algorithm: 'HS256',
    issuer: options.issuer,
    audience: options.audience,
    expiresIn: options.expiresInSeconds,
  });
}

/**
 * The token's claims when its signature, issuer, audience and expiry hold and it names a body hash;
 * `undefined` otherwise. Checked before the body is read, so a forged request is refused early.
 */
export function readBodyToken(options: ReadBodyTokenOptions): BodyTokenClaims | undefined {
  let claims: string | jwt.JwtPayload;
  try {
    claims = jwt.verify(options.token, hmacKey(options.secret), {
      algorithms: ['HS256'],
      issuer: options.issuer,
      audience: options.audience,
    });
  } catch {
    return undefined;
  }
  if (typeof claims === 'string' || typeof claims.exp !== 'number' || typeof claims.sha256 !== 'string') return undefined;
  return claims as BodyTokenClaims;
}

export function matchesBody(claims: BodyTokenClaims, body: string | Uint8Array): boolean {
  return claims.sha256 === bodyHash(body);
}
