import { ApiError } from '../http/errors.js';
import type { Db } from '../db/database.js';
import { findContacts, findUsersByIds } from './user.repository.js';
import type { User } from '@telemed/sdk';
import type { Role, UserRow } from './user.table.js';

export type { User };

export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, role: row.role, displayName: row.display_name, createdAt: row.created_at.toISOString() };
}

/** Throws 422 unless every id is a contact of `user` (someone they may call or message). */
export async function assertContacts(db: Db, user: { id: string; role: Role }, ids: readonly string[]): Promise<UserRow[]> {
  const unique = [...new Set(ids)].filter((id) => id !== user.id);
  if (unique.length === 0) throw new ApiError('VALIDATION_FAILED', 'name at least one other user');
  const contacts = new Set((await findContacts(db, user)).map((u) => u.id));
  const outside = unique.filter((id) => !contacts.has(id));
  if (outside.length > 0) throw new ApiError('FORBIDDEN', 'you can only reach your care team or your patients', { userIds: outside });
  return findUsersByIds(db, unique);
}
