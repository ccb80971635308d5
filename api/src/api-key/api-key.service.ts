import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '@telemed/sdk';
import type { ApiKeyScope } from '@telemed/sdk/protocol';
import type { Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import { ApiError } from '../http/errors.js';
import type { ApiKeyTable } from './api-key.table.js';

/** The caller of a key-authenticated route. */
export interface ApiKeyPrincipal {
  id: string;
  name: string;
  scopes: readonly ApiKeyScope[];
}

const KEY_FORMAT = /^tmk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

const toApiKey = (row: Selectable<ApiKeyTable>): ApiKey => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  scopes: row.scopes as ApiKeyScope[],
  createdBy: row.created_by,
  createdAt: row.created_at.toISOString(),
  lastUsedAt: row.last_used_at?.toISOString() ?? null,
  revokedAt: row.revoked_at?.toISOString() ?? null,
});

/** A new key: the secret is returned once and only its hash is stored. */
export async function createApiKey(
  db: Db,
  createdBy: string,
  input: { name: string; scopes: readonly ApiKeyScope[] },
): Promise<{ apiKey: ApiKey; secret: string }> {
  const prefix = randomBytes(8).toString('hex');
  const secret = `tmk_${prefix}_${randomBytes(32).toString('base64url')}`;
  const row = await db
    .insertInto('api_keys')
    .values({
      name: input.name,
      prefix,
      secret_hash: sha256(secret).toString('hex'),
      scopes: [...new Set(input.scopes)],
      created_by: createdBy,
      last_used_at: null,
      revoked_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { apiKey: toApiKey(row), secret };
}

export async function listApiKeys(db: Db): Promise<ApiKey[]> {
  return (await db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').orderBy('id').execute()).map(toApiKey);
}

export async function revokeApiKey(db: Db, id: string): Promise<ApiKey> {
  const row =
    (await db.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', id).where('revoked_at', 'is', null).returningAll().executeTakeFirst()) ??
    (await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst());
  if (!row) throw new ApiError('NOT_FOUND', 'no such API key');
  return toApiKey(row);
}

/** The key a bearer secret names, if it is one and not revoked; 401 otherwise. */
export async function authenticateApiKey(db: Db, secret: string): Promise<ApiKeyPrincipal> {
  const match = KEY_FORMAT.exec(secret);
  if (!match) throw new ApiError('UNAUTHORIZED', 'an API key is required (Authorization: Bearer tmk_…)');
  const row = await db.selectFrom('api_keys').selectAll().where('prefix', '=', match[1]!).executeTakeFirst();
  const given = sha256(secret);
  if (!row || !timingSafeEqual(given, Buffer.from(row.secret_hash, 'hex'))) throw new ApiError('UNAUTHORIZED', 'unknown API key');
  if (row.revoked_at) throw new ApiError('UNAUTHORIZED', 'this API key was revoked');
  await db.updateTable('api_keys').set({ last_used_at: new Date() }).where('id', '=', row.id).execute();
  return { id: row.id, name: row.name, scopes: row.scopes as ApiKeyScope[] };
}
