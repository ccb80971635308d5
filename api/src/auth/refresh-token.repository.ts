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

/** Ends every session of a user (password reset, account disabled); answers how many were open. */
export async function revokeUserFamilies(db: Db, userId: string): Promise<number> {
  const rows = await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: new Date() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .returning('family_id')
    .execute();
  return new Set(rows.map((r) => r.family_id)).size;
}

/**
 * Whether an access token's session is open: its family still has a live refresh token and the
 * account is not disabled. Rotation inserts the new token before retiring the old one, so an
 * open session always has one.
 */
export async function isSessionOpen(db: Db, sessionId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom('refresh_tokens')
            .select(eb.lit(1).as('one'))
            .where('family_id', '=', sessionId)
            .where('user_id', '=', userId)
            .where('revoked_at', 'is', null),
        )
        .as('open'),
    )
    .where('id', '=', userId)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return row?.open === true;
}
