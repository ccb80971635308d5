import type { Db } from '../db/database.js';
import type { AccountInvitationRow, InvitationPurpose } from './account.table.js';

/** A new link for a user; the links they had and did not use stop working. */
export async function insertInvitation(
  db: Db,
  row: { userId: string; tokenHash: string; purpose: InvitationPurpose; createdBy: string | null; expiresAt: Date },
): Promise<AccountInvitationRow> {
  await db.deleteFrom('account_invitations').where('user_id', '=', row.userId).where('used_at', 'is', null).execute();
  return db
    .insertInto('account_invitations')
    .values({ user_id: row.userId, token_hash: row.tokenHash, purpose: row.purpose, created_by: row.createdBy, expires_at: row.expiresAt, used_at: null })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Locks the link so two submissions of it cannot both set a password. */
export async function findInvitationForUpdate(db: Db, tokenHash: string): Promise<AccountInvitationRow | undefined> {
  return db.selectFrom('account_invitations').selectAll().where('token_hash', '=', tokenHash).forUpdate().executeTakeFirst();
}

export async function findInvitation(db: Db, tokenHash: string): Promise<AccountInvitationRow | undefined> {
  return db.selectFrom('account_invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export async function markInvitationUsed(db: Db, id: string): Promise<void> {
  await db.updateTable('account_invitations').set({ used_at: new Date() }).where('id', '=', id).execute();
}

/** Open links of a user stop working (the account was disabled). */
export async function dropOpenInvitations(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('account_invitations').where('user_id', '=', userId).where('used_at', 'is', null).execute();
}
