import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../app.js';
import { createLogger } from '../logger.js';
import { createPostgresDatabase, DATABASES, pgliteTemplate, TEST_SECRETS, type TestDatabase } from '../testing/test-app.js';
import { openDatabase, type DatabaseHandle } from './connect.js';
import type { Database } from './database.js';
import { KNOWN_MIGRATIONS, migrateDown, migrateToLatest, migrationStatus, SchemaTooNewError } from './migrate.js';

/** The public schema as text: tables with their columns, indexes, constraints, triggers. */
async function schema(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ line: string }>`
    select 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') as line
      from information_schema.columns where table_schema = 'public'
    union all select 'index ' || indexdef from pg_indexes where schemaname = 'public'
    union all select 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid) from pg_constraint where connamespace = 'public'::regnamespace
    union all select 'trigger ' || tgname from pg_trigger where not tgisinternal
    order by 1`.execute(db);
  return rows.map((r) => r.line);
}

let url: string | undefined;

async function open(database: TestDatabase, fresh: boolean): Promise<DatabaseHandle> {
  url = database === 'postgres' ? await createPostgresDatabase() : undefined;
  // The PGlite template is migrated and seeded (data for the downs to carry); PostgreSQL starts empty.
  const template = database === 'pglite' && !fresh ? await pgliteTemplate() : undefined;
  const handle = await openDatabase({ url, dir: 'memory://', poolSize: 2, template, logger: createLogger('silent') });
  if (!fresh && url) await migrateToLatest(handle.db);
  return handle;
}

describe.each(DATABASES)('migrations on %s', (database) => {
  let handle: DatabaseHandle | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
  });

  it('status lists applied and pending; up → down (step by step, with data) → up gives the same schema', async () => {
    handle = await open(database, true);
    const { db } = handle;
    expect(await migrationStatus(db)).toEqual({ applied: [], pending: [...KNOWN_MIGRATIONS], unknown: [] });
    expect(await migrateToLatest(db)).toEqual(KNOWN_MIGRATIONS);
    expect(await migrationStatus(db)).toEqual({ applied: [...KNOWN_MIGRATIONS], pending: [], unknown: [] });
    const latest = await schema(db);

    // Rows the downs have to carry: a lobby participant, a scheduled call, an audit row of several records.
    const [doctor, patient] = await db
      .insertInto('users')
      .values([
        { email: 'd@example.test', password_hash: 'x', role: 'doctor', display_name: 'D' },
        { email: 'p@example.test', password_hash: 'x', role: 'patient', display_name: 'P' },
      ])
      .returning('id')
      .execute();
    const call = await db
      .insertInto('calls')
      .values({ type: 'video', status: 'scheduled', initiator_id: doctor!.id, ring_expires_at: new Date(Date.now() + 3600_000), scheduled_for: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.insertInto('call_participants').values({ call_id: call.id, user_id: patient!.id, role: 'invitee', status: 'waiting' }).execute();
    await sql`insert into audit_log (actor_id, action, entity_type, entity_id, entity_ids) values (${doctor!.id}, 'read', 'message', '*', array['1', '2', '3'])`.execute(
      db,
    );

    for (let step = KNOWN_MIGRATIONS.length - 1; step >= 1; step--) {
      expect(await migrateDown(db)).toEqual([KNOWN_MIGRATIONS[step]]);
      expect((await migrationStatus(db)).pending).toEqual(KNOWN_MIGRATIONS.slice(step));
    }
    // The oldest schema: the call is cancelled, the lobby entry left, the audit row one per record.
    expect(await db.selectFrom('calls').select('status').executeTakeFirstOrThrow()).toEqual({ status: 'cancelled' });
    expect(await db.selectFrom('call_participants').select('status').executeTakeFirstOrThrow()).toEqual({ status: 'left' });
    expect((await db.selectFrom('audit_log').select('entity_id').orderBy('entity_id').execute()).map((r) => r.entity_id)).toEqual(['1', '2', '3']);

    expect(await migrateToLatest(db)).toEqual(KNOWN_MIGRATIONS.slice(1));
    expect(await schema(db)).toEqual(latest);
  });

  it('down to none leaves an empty schema; up again rebuilds it; --to names a migration', async () => {
    handle = await open(database, false);
    const { db } = handle;
    const latest = await schema(db);
    await expect(migrateDown(db, { to: 'no-such-migration' })).rejects.toThrow(/unknown migration no-such-migration/);
    expect(await migrateDown(db, { to: KNOWN_MIGRATIONS[1] })).toEqual(KNOWN_MIGRATIONS.slice(2).reverse());
    expect(await migrateDown(db, { to: 'none' })).toEqual([KNOWN_MIGRATIONS[1], KNOWN_MIGRATIONS[0]]);
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from information_schema.tables where table_schema = 'public' and table_name not like 'kysely_migration%'`.execute(db);
    expect(rows[0]!.n).toBe(0);
    expect(await migrateToLatest(db)).toEqual(KNOWN_MIGRATIONS);
    expect(await schema(db)).toEqual(latest);
  });

  it('a database migrated by a newer build: says which version it found and what to do, changes nothing', async () => {
    handle = await open(database, false);
    const { db } = handle;
    const newer = '2099-01-01T00-00-from-a-newer-build';
    await sql`insert into kysely_migration (name, timestamp) values (${newer}, ${new Date().toISOString()})`.execute(db);
    expect((await migrationStatus(db)).unknown).toEqual([newer]);
    const error = await migrateToLatest(db).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaTooNewError);
    expect((error as SchemaTooNewError).found).toBe(newer);
    expect((error as Error).message).toContain(`the database schema is at ${newer}, newer than this build knows (its latest is ${KNOWN_MIGRATIONS.at(-1)}`);
    expect((error as Error).message).toContain(`telemed migrate down --to ${KNOWN_MIGRATIONS.at(-1)}`);
    await expect(migrateDown(db)).rejects.toBeInstanceOf(SchemaTooNewError);
    expect((await migrationStatus(db)).applied).toEqual(KNOWN_MIGRATIONS);
    if (database === 'postgres') {
      // The API refuses to start on it (main.ts prints the message and exits 78), instead of failing later.
      const app = new App({ port: 0, mode: 'test', logLevel: 'silent', databaseDir: 'memory://', databaseUrl: url, ...TEST_SECRETS });
      await expect(app.start()).rejects.toBeInstanceOf(SchemaTooNewError);
    }
  });
});
