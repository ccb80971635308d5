import { createHash, randomBytes } from 'node:crypto';

/** A fresh bearer secret (refresh tokens, invitation links): 32 random bytes, base64url. */
export const newToken = (): string => randomBytes(32).toString('base64url');

/** What is stored of a bearer secret: its SHA-256 (the secret is random, so no salt or stretching). */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url');
