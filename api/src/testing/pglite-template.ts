// A migrated and seeded PGlite data directory for the API's tests, made once per source version.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { Encryptor } from '../crypto/encryption.js';
import type { Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { PGliteDialect } from '../db/pglite-dialect.js';
import { seedDemo } from '../db/seed.js';

/** The encryption key the template's seeded secrets are encrypted with (TEST_SECRETS uses it). */
export const TEMPLATE_ENCRYPTION_KEY = `k1:${Buffer.alloc(32, 7).toString('base64')}`;

function templateFile(): string {
  const dbDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'db');
  const sources = [
    path.join(dbDir, 'seed.ts'),
    path.join(dbDir, 'demo-users.ts'),
    ...fs
      .readdirSync(path.join(dbDir, 'migrations'))
      .sort()
      .map((f) => path.join(dbDir, 'migrations', f)),
  ];
  const hash = createHash('sha256');
  for (const file of sources) hash.update(fs.readFileSync(file));
  hash.update(TEMPLATE_ENCRYPTION_KEY);
  return path.join(os.tmpdir(), `telemed-pglite-template-${hash.digest('hex').slice(0, 16)}.tar`);
}

/**
 * Makes the template file unless it exists (keyed by the migration and seed sources) and returns
 * its path. The unit project's globalSetup calls it once before any worker starts: built by every
 * worker at once, initdb ran N times in parallel and took over 100 s on a loaded 2-core machine,
 * past the first files' beforeAll deadline.
 */
export async function ensurePgliteTemplate(): Promise<string> {
  const file = templateFile();
  if (fs.existsSync(file)) return file;
  const pglite = await PGlite.create('memory://', { parsers: { 20: (value: string) => Number(value) } });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  await migrateToLatest(db);
  await seedDemo(db, new Encryptor(TEMPLATE_ENCRYPTION_KEY));
  const dump = await pglite.dumpDataDir('none');
  await db.destroy();
  await pglite.close();
  const partial = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  fs.renameSync(partial, file);
  return file;
}

let template: Promise<Blob> | undefined;

/** The template as a Blob: starting PGlite from it takes ~1 s instead of initdb's ~10 s. */
export function pgliteTemplate(): Promise<Blob> {
  template ??= ensurePgliteTemplate().then((file) => new Blob([fs.readFileSync(file)]));
  return template;
}
