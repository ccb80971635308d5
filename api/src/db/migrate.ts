import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import * as initial from './migrations/2026-11-24T09-40-initial.js';
import * as mediaEventEpochs from './migrations/2026-11-24T13-00-media-event-epochs.js';
import * as callLobby from './migrations/2026-11-24T13-zz-call-lobby.js';
import * as callTimeline from './migrations/2026-11-24T13-zz-call-timeline.js';
import * as scheduledCalls from './migrations/2026-11-24T14-45-scheduled-calls.js';
import * as attachmentStore from './migrations/2026-11-24T15-10-attachment-store.js';
import * as auditEntitySets from './migrations/2026-11-24T15-20-audit-entity-sets.js';
import * as directConversationMembers from './migrations/2026-12-04T13-40-direct-conversation-members.js';
import * as apiKeys from './migrations/2026-12-04T17-30-api-keys.js';

// Every migration, in the order its name sorts. Imported statically so the same list runs from
// src (tests) and dist (production) without reading folders at run time.
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-24T09-40-initial': initial,
  '2026-11-24T13-00-media-event-epochs': mediaEventEpochs,
  '2026-11-24T13-zz-call-lobby': callLobby,
  '2026-11-24T13-zz-call-timeline': callTimeline,
  '2026-11-24T14-45-scheduled-calls': scheduledCalls,
  '2026-11-24T15-10-attachment-store': attachmentStore,
  '2026-11-24T15-20-audit-entity-sets': auditEntitySets,
  '2026-12-04T13-40-direct-conversation-members': directConversationMembers,
  '2026-12-04T17-30-api-keys': apiKeys,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Brings the schema up to date; throws (and the API does not start) when a migration fails. */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).map((r) => r.migrationName);
}
