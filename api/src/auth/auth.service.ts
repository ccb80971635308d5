import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import { ApiError } from '../http/errors.js';
import { hashPassword, needsRehash, scryptWithCost, verifyPassword } from '../crypto/password.js';
import { hashToken, newToken } from '../crypto/token-hash.js';
import { findUserByEmail, findUserById, setPasswordHash } from '../user/user.repository.js';
import { toUser, type User } from '../user/user.service.js';
import { signAccessToken } from './access-token.js';
import { findRefreshTokenForUpdate, insertRefreshToken, markRotated, revokeFamily } from './refresh-token.repository.js';

export interface SessionTokens {
  accessToken: string;
  accessTokenExpiresIn: number;
  refreshToken: string;
  user: User;
}

export interface AuthSettings {
  accessTokenSecret: string;
  accessTokenTtlSeconds: number;
  refreshIdleSeconds: number;
  refreshMaxSeconds: number;
  /** scrypt cost of new hashes; a hash made with another is upgraded at login. */
  passwordScryptN: number;
}

const REUSE_LEEWAY_MS = 10_000;

// Compared against when the e-mail is unknown, so a miss costs the same time as a wrong password.
let dummyHash: Promise<string> | undefined;

/** A refused login; `userId` names the account when the e-mail is known (for the audit log). */
export interface LoginRefusal {
  error: ApiError;
  userId: string | null;
}

/**
 * Checks the password and opens a session. A hash made with other scrypt parameters than the
 * current ones is replaced by a new one of the same password (the only moment the API has it).
 */
export async function login(db: Db, settings: AuthSettings, email: string, password: string): Promise<SessionTokens | LoginRefusal> {
  const row = await findUserByEmail(db, email);
  const ok = await verifyPassword(password, row?.password_hash ?? (await (dummyHash ??= hashPassword(randomUUID()))));
  if (!row || !ok || row.disabled_at) return { error: new ApiError('UNAUTHORIZED', 'wrong e-mail or password'), userId: row?.id ?? null };
  const params = scryptWithCost(settings.passwordScryptN);
  if (needsRehash(row.password_hash, params)) {
    // Only if nobody changed it meanwhile (a password set through an invitation wins).
    await setPasswordHash(db, row.id, await hashPassword(password, params), row.password_hash);
  }
  const { id: _rowId, ...session } = await issueSession(db, settings, toUser(row), randomUUID());
  void _rowId;
  return session;
}

async function issueSession(db: Db, settings: AuthSettings, user: User, familyId: string, expiresAt?: Date): Promise<SessionTokens & { id: string }> {
  const refreshToken = newToken();
  const row = await insertRefreshToken(db, {
    userId: user.id,
    familyId,
    tokenHash: hashToken(refreshToken),
    expiresAt: expiresAt ?? new Date(Date.now() + settings.refreshMaxSeconds * 1000),
  });
  const accessToken = signAccessToken(settings.accessTokenSecret, { id: user.id, role: user.role }, familyId, settings.accessTokenTtlSeconds);
  return { id: row.id, accessToken, accessTokenExpiresIn: settings.accessTokenTtlSeconds, refreshToken, user };
}

/** A refused refresh; `revoked` names the session it ended (announce it once committed). */
export interface RefreshRefusal {
  error: ApiError;
  revoked?: { sessionId: string; userId: string };
  /** Set when a rotated token was presented again (a stolen token): an audit row. */
  reused?: boolean;
}

/**
 * Rotates a refresh token: the old one stops working and a new one of the same family is issued.
 * Presenting an already-rotated token means it leaked: the whole family is revoked. Call inside a
 * transaction; a refusal is returned, not thrown, so a revocation it made still commits.
 */
export async function refresh(trx: Db, settings: AuthSettings, refreshToken: string): Promise<SessionTokens | RefreshRefusal> {
  const row = await findRefreshTokenForUpdate(trx, hashToken(refreshToken));
  if (!row) return { error: new ApiError('UNAUTHORIZED', 'the refresh token is not valid') };
  const revoked = { sessionId: row.family_id, userId: row.user_id };
  const now = Date.now();
  // A client whose refresh answer was lost (a restart, a dropped connection) retries with the
  // token it still has: within a few seconds of its rotation that is not treated as theft.
  const lostAnswer = row.revoked_at !== null && row.replaced_by !== null && now - row.revoked_at.getTime() < REUSE_LEEWAY_MS;
  if (row.revoked_at && !lostAnswer) {
    const error = new ApiError('UNAUTHORIZED', 'the refresh token has been revoked');
    if (!row.replaced_by) return { error };
    await revokeFamily(trx, row.family_id);
    return { error, revoked, reused: true };
  }
  if (row.expires_at.getTime() <= now) return { error: new ApiError('UNAUTHORIZED', 'the session has expired; log in again') };
  if (row.last_used_at.getTime() + settings.refreshIdleSeconds * 1000 <= now) {
    await revokeFamily(trx, row.family_id);
    return { error: new ApiError('UNAUTHORIZED', 'the session was idle too long; log in again'), revoked };
  }
  const user = await findUserById(trx, row.user_id);
  if (!user || user.disabled_at) return { error: new ApiError('UNAUTHORIZED', 'the account is disabled') };
  // The family keeps its absolute expiry: rotation extends the idle window, not the session.
  const next = await issueSession(trx, settings, toUser(user), row.family_id, row.expires_at);
  await markRotated(trx, row.id, next.id);
  return { accessToken: next.accessToken, accessTokenExpiresIn: next.accessTokenExpiresIn, refreshToken: next.refreshToken, user: next.user };
}

/**
 * Ends the session the refresh token belongs to (idempotent; unknown tokens are ignored); answers
 * which session of whom it was, to announce once committed.
 */
export async function logout(trx: Db, refreshToken: string): Promise<{ sessionId: string; userId: string } | undefined> {
  const row = await findRefreshTokenForUpdate(trx, hashToken(refreshToken));
  if (!row) return undefined;
  await revokeFamily(trx, row.family_id);
  return { sessionId: row.family_id, userId: row.user_id };
}
