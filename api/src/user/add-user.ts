import { z } from 'zod';
import { hashPassword } from '../crypto/password.js';
import { openDatabase } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';
import { RoleSchema } from '../http/resource.schema.js';
import { createLogger } from '../logger.js';
import { findUserByEmail, insertUser } from './user.repository.js';

const NewUser = z.object({
  role: RoleSchema,
  email: z.email('email: not an e-mail address').transform((e) => e.toLowerCase()),
  displayName: z.string().trim().min(1, 'name: required').max(100),
  password: z.string().min(12, 'password: at least 12 characters').max(256),
});

export interface AddUserOptions {
  /** PostgreSQL URL; PGlite under `databaseDir` when unset (the API must not be running then). */
  databaseUrl?: string | undefined;
  databaseDir: string;
  user: z.input<typeof NewUser>;
}

/**
 * Creates one user (the operator's first admin, or staff) in the production database, migrating
 * it first when it is new. `telemed add-user` calls this; production mode seeds nobody.
 */
export async function addUser(options: AddUserOptions): Promise<{ id: string; email: string; role: string }> {
  const parsed = NewUser.safeParse(options.user);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  const input = parsed.data;
  const database = await openDatabase({ url: options.databaseUrl, dir: options.databaseDir, poolSize: 1, logger: createLogger('warn') });
  try {
    await migrateToLatest(database.db);
    if (await findUserByEmail(database.db, input.email)) throw new Error(`a user with e-mail ${input.email} exists`);
    const row = await insertUser(database.db, {
      email: input.email,
      passwordHash: await hashPassword(input.password),
      role: input.role,
      displayName: input.displayName,
    });
    return { id: row.id, email: row.email, role: row.role };
  } finally {
    await database.close();
  }
}
