import { sql, type Kysely } from 'kysely';
import { Migrator, NO_MIGRATIONS, type Migration, type MigrationProvider, type MigrationResult, type MigrationResultSet } from 'kysely/migration';
import * as initial from './migrations/2026-11-24T09-40-initial.js';
import * as mediaEventEpochs from './migrations/2026-11-24T13-00-media-event-epochs.js';
import * as callLobby from './migrations/2026-11-24T13-zz-call-lobby.js';
import * as callTimeline from './migrations/2026-11-24T13-zz-call-timeline.js';
import * as scheduledCalls from './migrations/2026-11-24T14-45-scheduled-calls.js';
import * as attachmentStore from './migrations/2026-11-24T15-10-attachment-store.js';
import * as auditEntitySets from './migrations/2026-11-24T15-20-audit-entity-sets.js';
import * as directConversationMembers from './migrations/2026-12-04T13-40-direct-conversation-members.js';
import * as accountsCareTeams from './migrations/2026-12-04T17-00-accounts-care-teams.js';
import * as callRecordings from './migrations/2026-12-04T17-00-call-recordings.js';
import * as apiKeys from './migrations/2026-12-04T17-30-api-keys.js';
import * as webhooks from './migrations/2026-12-04T19-50-webhooks.js';
import * as userEventHeads from './migrations/2026-12-05T02-40-user-event-heads.js';
import * as conversationMessageHead from './migrations/2026-12-05T06-00-conversation-message-head.js';

// Every migration (each with its down), in the order its name sorts. Imported statically so the same list runs from
// src (tests) and dist (production) without reading folders at run time.
const MIGRATIONS: Record<string, Required<Migration>> = {
  '2026-11-24T09-40-initial': initial,
  '2026-11-24T13-00-media-event-epochs': mediaEventEpochs,
  '2026-11-24T13-zz-call-lobby': callLobby,
  '2026-11-24T13-zz-call-timeline': callTimeline,
  '2026-11-24T14-45-scheduled-calls': scheduledCalls,
  '2026-11-24T15-10-attachment-store': attachmentStore,
  '2026-11-24T15-20-audit-entity-sets': auditEntitySets,
  '2026-12-04T13-40-direct-conversation-members': directConversationMembers,
  '2026-12-04T17-00-accounts-care-teams': accountsCareTeams,
  '2026-12-04T17-00-call-recordings': callRecordings,
  '2026-12-04T17-30-api-keys': apiKeys,
  '2026-12-04T19-50-webhooks': webhooks,
  '2026-12-05T02-40-user-event-heads': userEventHeads,
  '2026-12-05T06-00-conversation-message-head': conversationMessageHead,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** The names this build knows, oldest first. */
export const KNOWN_MIGRATIONS: readonly string[] = Object.keys(MIGRATIONS).sort();

export interface MigrationStatus {
  /** Applied to the database and known to this build, oldest first. */
  applied: string[];
  /** Known to this build and not applied yet. */
  pending: string[];
  /** Applied to the database by a newer build: this one does not know them. */
  unknown: string[];
}

/**
 * The database holds migrations this build does not know: a newer build migrated it. Starting
 * would run old code on a newer schema, so nothing starts until the operator decides.
 */
export class SchemaTooNewError extends Error {
  readonly found: string;
  readonly latestKnown: string | undefined;

  constructor(unknown: readonly string[]) {
    const found = unknown[unknown.length - 1]!;
    const latestKnown = KNOWN_MIGRATIONS[KNOWN_MIGRATIONS.length - 1];
    super(
      `the database schema is at ${found}, newer than this build knows (its latest is ${latestKnown ?? 'none'}; unknown: ${unknown.join(', ')}). ` +
        `Run the newer build that migrated it, or roll the schema back with that newer build first: \`telemed migrate down --to ${latestKnown ?? 'none'}\` (docs/operations.md, "Upgrade and roll back")`,
    );
    this.name = 'SchemaTooNewError';
    this.found = found;
    this.latestKnown = latestKnown;
  }
}

/** Kysely's bookkeeping table (its default name). */
const MIGRATION_TABLE = 'kysely_migration';

async function appliedNames<DB>(db: Kysely<DB>): Promise<string[]> {
  const {
    rows: [exists],
  } = await sql<{ found: boolean }>`select to_regclass(${MIGRATION_TABLE}) is not null as found`.execute(db);
  if (!exists?.found) return [];
  const { rows } = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(db);
  return rows.map((r) => r.name);
}

/** What is applied, what is pending, and what only a newer build knows. */
export async function migrationStatus<DB>(db: Kysely<DB>): Promise<MigrationStatus> {
  const applied = await appliedNames(db);
  const known = new Set(KNOWN_MIGRATIONS);
  const done = new Set(applied);
  return {
    applied: applied.filter((name) => known.has(name)),
    pending: KNOWN_MIGRATIONS.filter((name) => !done.has(name)),
    unknown: applied.filter((name) => !known.has(name)),
  };
}

async function refuseNewerSchema<DB>(db: Kysely<DB>): Promise<void> {
  const { unknown } = await migrationStatus(db);
  if (unknown.length > 0) throw new SchemaTooNewError(unknown);
}

function outcome(what: string, { error, results }: MigrationResultSet): MigrationResult[] {
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`${what} ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return [...(results ?? [])];
}

/**
 * Brings the schema up to date; throws (and the API does not start) when a migration fails, or
 * SchemaTooNewError when a newer build has migrated the database.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<string[]> {
  await refuseNewerSchema(db);
  return outcome('migration', await new Migrator({ db, provider }).migrateToLatest()).map((r) => r.migrationName);
}

/**
 * Rolls the schema back: to just after `to` (a known migration name, or 'none' for an empty
 * schema), else one step. Returns the migrations undone, newest first.
 */
export async function migrateDown<DB>(db: Kysely<DB>, options: { to?: string } = {}): Promise<string[]> {
  await refuseNewerSchema(db);
  const migrator = new Migrator({ db, provider });
  if (options.to === undefined) return outcome('rollback', await migrator.migrateDown()).map((r) => r.migrationName);
  if (options.to !== 'none' && !KNOWN_MIGRATIONS.includes(options.to)) {
    throw new Error(`unknown migration ${options.to} (this build knows: ${KNOWN_MIGRATIONS.join(', ')})`);
  }
  const { applied } = await migrationStatus(db);
  if (options.to !== 'none' && !applied.includes(options.to)) throw new Error(`${options.to} is not applied: nothing to roll back to`);
  return outcome('rollback', await migrator.migrateTo(options.to === 'none' ? NO_MIGRATIONS : options.to)).map((r) => r.migrationName);
}
