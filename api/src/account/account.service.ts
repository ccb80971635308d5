import type { Db } from '../db/database.js';
import { hashPassword, NO_PASSWORD, scryptWithCost } from '../crypto/password.js';
import { hashToken, newToken } from '../crypto/token-hash.js';
import { ApiError } from '../http/errors.js';
import { findUserByEmail, findUserById, hasCareLinks, insertUser, setDisabled, setPasswordHash, updateUser } from '../user/user.repository.js';
import type { Role, UserRow } from '../user/user.table.js';
import type { AdminUser } from '@telemed/sdk';
import type { InvitationPurpose } from './account.table.js';
import { dropOpenInvitations, findInvitation, findInvitationForUpdate, insertInvitation, markInvitationUsed } from './invitation.repository.js';

export function toAdminUser(row: UserRow): AdminUser {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    displayName: row.display_name,
    createdAt: row.created_at.toISOString(),
    status: row.disabled_at ? 'disabled' : row.password_hash === NO_PASSWORD ? 'invited' : 'active',
    disabledAt: row.disabled_at?.toISOString() ?? null,
  };
}

export interface IssuedLink {
  purpose: InvitationPurpose;
  token: string;
  expiresAt: Date;
}

/** A user an admin acts on; 404 when there is none. */
export async function requireUser(db: Db, userId: string): Promise<UserRow> {
  const row = await findUserById(db, userId);
  if (!row) throw new ApiError('NOT_FOUND', 'no such user');
  return row;
}

/** A new one-time link for `user`: an invitation while they never set a password, else a reset. */
export async function issueLink(db: Db, user: UserRow, createdBy: string, ttlSeconds: number): Promise<IssuedLink> {
  if (user.disabled_at) throw new ApiError('CONFLICT', 'the account is disabled: enable it first');
  const token = newToken();
  const purpose: InvitationPurpose = user.password_hash === NO_PASSWORD ? 'invite' : 'reset';
  const row = await insertInvitation(db, {
    userId: user.id,
    tokenHash: hashToken(token),
    purpose,
    createdBy,
    expiresAt: new Date(Date.now() + ttlSeconds * 1000),
  });
  return { purpose, token, expiresAt: row.expires_at };
}

/** Creates an account without a password (nobody can sign in to it until its link is used). */
export async function createAccount(db: Db, input: { email: string; displayName: string; role: Role }): Promise<UserRow> {
  const email = input.email.toLowerCase();
  if (await findUserByEmail(db, email)) throw new ApiError('CONFLICT', 'a user with that e-mail exists');
  return insertUser(db, { email, passwordHash: NO_PASSWORD, role: input.role, displayName: input.displayName });
}

/** Whether some admin other than `userId` can still sign in (the last one cannot be demoted or disabled). */
async function anotherAdminRemains(db: Db, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .where('id', '!=', userId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Renames and/or changes the role; answers the row and whether the role changed (its sessions must end: tokens carry the role). */
export async function editAccount(
  db: Db,
  actorId: string,
  userId: string,
  patch: { displayName?: string | undefined; role?: Role | undefined },
): Promise<{ row: UserRow; roleChanged: boolean }> {
  const user = await requireUser(db, userId);
  const roleChanged = patch.role !== undefined && patch.role !== user.role;
  if (roleChanged) {
    if (userId === actorId) throw new ApiError('CONFLICT', 'you cannot change your own role');
    if (await hasCareLinks(db, userId))
      throw new ApiError('CONFLICT', "remove the user's care relationships and care team memberships before changing their role");
    if (user.role === 'admin' && !(await anotherAdminRemains(db, userId))) throw new ApiError('CONFLICT', 'the last admin keeps the admin role');
  }
  const row = await updateUser(db, userId, patch);
  if (!row) throw new ApiError('NOT_FOUND', 'no such user');
  return { row, roleChanged };
}

/** Disables or re-enables an account; disabling drops its open links too. */
export async function setAccountDisabled(db: Db, actorId: string, userId: string, disabled: boolean): Promise<{ row: UserRow; changed: boolean }> {
  const user = await requireUser(db, userId);
  if (disabled === (user.disabled_at !== null)) return { row: user, changed: false };
  if (disabled) {
    if (userId === actorId) throw new ApiError('CONFLICT', 'you cannot disable your own account');
    if (user.role === 'admin' && !(await anotherAdminRemains(db, userId))) throw new ApiError('CONFLICT', 'the last admin cannot be disabled');
    await dropOpenInvitations(db, userId);
  }
  const row = await setDisabled(db, userId, disabled);
  if (!row) throw new ApiError('NOT_FOUND', 'no such user');
  return { row, changed: true };
}

const INVALID_LINK = 'this link is not valid any more: ask your clinic for a new one';

/** Who a link is for (the set-password page shows it); 404 when it cannot be used. */
export async function describeLink(db: Db, token: string): Promise<{ email: string; displayName: string; purpose: InvitationPurpose; expiresAt: string }> {
  const link = await findInvitation(db, hashToken(token));
  const user = link && (await findUserById(db, link.user_id));
  if (!link || !user || link.used_at || link.expires_at.getTime() <= Date.now() || user.disabled_at) throw new ApiError('NOT_FOUND', INVALID_LINK);
  return { email: user.email, displayName: user.display_name, purpose: link.purpose, expiresAt: link.expires_at.toISOString() };
}

/** Sets the password through a link (once, before it expires). Call inside a transaction. */
export async function acceptLink(trx: Db, token: string, password: string, scryptN: number): Promise<{ userId: string; purpose: InvitationPurpose }> {
  const link = await findInvitationForUpdate(trx, hashToken(token));
  const user = link && (await findUserById(trx, link.user_id));
  if (!link || !user || link.used_at || link.expires_at.getTime() <= Date.now() || user.disabled_at) throw new ApiError('NOT_FOUND', INVALID_LINK);
  await setPasswordHash(trx, user.id, await hashPassword(password, scryptWithCost(scryptN)));
  await markInvitationUsed(trx, link.id);
  return { userId: user.id, purpose: link.purpose };
}
