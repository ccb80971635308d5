import type { Db } from '../db/database.js';
import type { RefreshTokenRow } from './refresh-token.table.js';

export async function insertRefreshToken(db: Db, row: { userId: string; familyId: string; tokenHash: string; expiresAt: Date }): Promise<RefreshTokenRow> {
  return db
    .insertInto('refresh_tokens')
    .values({ user_id: row.userId, family_id: row.familyId, token_hash: row.tokenHash, expires_at: row.expiresAt, revoked_at: null, replaced_by: null })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Locks the row so two concurrent refreshes of one token cannot both rotate it. */
export async function findRefreshTokenForUpdate(db: Db, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  return db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).forUpdate().executeTakeFirst();
}

/** Marks a token rotated (the first rotation's time counts for the reuse leeway). */
export async function markRotated(db: Db, id: string, replacedBy: string): Promise<void> {
  await db
    .updateTable('refresh_tokens')
    .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(new Date())), replaced_by: replacedBy }))
    .where('id', '=', id)
    .execute();
}

export async function revokeFamily(db: Db, familyId: string): Promise<void> {
  await db.updateTable('refresh_tokens').set({ revoked_at: new Date() }).where('family_id', '=', familyId).where('revoked_at', 'is', null).execute();
}
