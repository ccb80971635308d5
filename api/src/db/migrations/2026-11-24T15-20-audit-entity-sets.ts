import { sql, type Kysely } from 'kysely';

// A request that reads many records at once (a page of messages or calls) is one audit row: its
// records are listed in entity_ids and entity_id holds '*'. Before, such a request wrote one row per
// record (50 for a page of messages), the largest write of a read. "Who touched record X?" is
// `entity_id = X or entity_ids @> array[X]` (both indexed; audit.service findAuditTrail).
const statements = [
  `alter table audit_log add column entity_ids text[]`,
  // fastupdate off: each insert updates the index itself, instead of a pending list that some
  // later insert has to merge (a latency spike for whichever request that is).
  `create index audit_log_entity_ids_idx on audit_log using gin (entity_ids) with (fastupdate = off)`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

// Nothing of the audit trail is lost: a row covering several records becomes one row per record, as
// the older schema wrote them.
const downStatements = [
  `insert into audit_log (actor_id, action, entity_type, entity_id, ip, request_id, at)
    select actor_id, action, entity_type, unnest(entity_ids), ip, request_id, at from audit_log where entity_ids is not null order by id`,
  `delete from audit_log where entity_ids is not null`,
  `drop index audit_log_entity_ids_idx`,
  `alter table audit_log drop column entity_ids`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const statement of downStatements) await sql.raw(statement).execute(db);
}
