import { sql, type Selectable } from 'kysely';
import type { Context } from 'koa';
import type { Db } from '../db/database.js';
import type { AuditLogTable } from './audit.table.js';

export type AuditAction = 'read' | 'create' | 'update' | 'download' | 'upload' | 'login' | 'logout' | 'revoke';
export type AuditEntity = 'call' | 'message' | 'conversation' | 'attachment' | 'quality' | 'session' | 'user' | 'api_key' | 'room_token';
/** Where a request came from: its address and request id. */
export type AuditOrigin = Pick<Context, 'ip' | 'state'>;

/** One request touching some records. */
export interface AuditEntry {
  actorId: string | null;
  action: AuditAction;
  entityType: AuditEntity;
  entityIds: readonly string[];
  ip: string | null;
  requestId: string | null;
  at: Date;
}

/** The entry of one request touching some records, stamped now. */
export function auditEntry(ctx: AuditOrigin, actorId: string | null, action: AuditAction, entityType: AuditEntity, entityIds: string | readonly string[]): AuditEntry {
  const requestId = typeof ctx.state.requestId === 'string' ? ctx.state.requestId : null;
  return { actorId, action, entityType, entityIds: typeof entityIds === 'string' ? [entityIds] : entityIds, ip: ctx.ip || null, requestId, at: new Date() };
}

/** Marks a row that covers several records (listed in entity_ids). */
export const SEVERAL = '*';

/**
 * Writes one row per entry in one statement: entity_id is the record, or for an entry of several
 * records SEVERAL with the records in entity_ids. The parameters are one array per column with an
 * element per entry (an entry's records as one JSON array), whatever the number of entries.
 */
export async function insertAuditEntries(db: Db, entries: readonly AuditEntry[]): Promise<void> {
  const written = entries.filter((e) => e.entityIds.length > 0);
  if (written.length === 0) return;
  await sql`/* prepared:audit-insert */
    insert into audit_log (actor_id, action, entity_type, entity_id, entity_ids, ip, request_id, at)
    select r.actor_id, r.action, r.entity_type, r.entity_id, case when r.ids is not null then array(select jsonb_array_elements_text(r.ids::jsonb)) end, r.ip, r.request_id, r.at
      from unnest(${written.map((e) => e.actorId)}::uuid[], ${written.map((e) => e.action)}::text[], ${written.map((e) => e.entityType)}::text[],
                  ${written.map((e) => (e.entityIds.length === 1 ? e.entityIds[0]! : SEVERAL))}::text[], ${written.map((e) => (e.entityIds.length === 1 ? null : JSON.stringify(e.entityIds)))}::text[],
                  ${written.map((e) => e.ip)}::text[], ${written.map((e) => e.requestId)}::text[], ${written.map((e) => e.at.toISOString())}::timestamptz[])
           with ordinality as r(actor_id, action, entity_type, entity_id, ids, ip, request_id, at, n)
     order by r.n`.execute(db);
}

/** Every audit row touching one record (alone or among several), oldest first. */
export async function findAuditTrail(db: Db, entityType: AuditEntity, entityId: string): Promise<Array<Selectable<AuditLogTable>>> {
  return db
    .selectFrom('audit_log')
    .selectAll()
    .where('entity_type', '=', entityType)
    .where((eb) => eb.or([eb('entity_id', '=', entityId), eb('entity_ids', '@>', sql<string[]>`array[${entityId}]::text[]`)]))
    .orderBy('at')
    .orderBy('id')
    .execute();
}

/**
 * Who read or wrote which record, when and from where. Never the record's content. This writes
 * with `db` (use it inside a transaction, so the row commits with the change); outside one, use
 * the app's AuditWriter, which shares one insert and commit between concurrent requests.
 */
export async function audit(db: Db, ctx: AuditOrigin, actorId: string | null, action: AuditAction, entityType: AuditEntity, entityIds: string | readonly string[]): Promise<void> {
  await insertAuditEntries(db, [auditEntry(ctx, actorId, action, entityType, entityIds)]);
}
