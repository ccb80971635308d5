import { sql, type Selectable } from 'kysely';
import type { Context } from 'koa';
import type { Db } from '../db/database.js';
import type { AuditLogTable } from './audit.table.js';

export type AuditAction =
  | 'read'
  | 'create'
  | 'update'
  | 'delete'
  | 'download'
  | 'upload'
  | 'login'
  | 'logout'
  /** A wrong password (actor: the account when the e-mail is known); a rotated refresh token presented again. */
  | 'login_failed'
  | 'token_reuse'
  /** A signed-in user refused a route or a record (403). */
  | 'denied'
  /** Account management: a link to set a password sent, used; an account disabled, enabled. */
  | 'invite'
  | 'password_reset'
  | 'password_set'
  | 'disable'
  | 'enable'
  /** Care relationships and team memberships (entity_ids: the team or doctor, and the member). */
  | 'link'
  | 'unlink'
  /** Call recording: a participant consented or refused. */
  | 'consent'
  | 'refuse'
  /** An API key revoked. */
  | 'revoke';
export type AuditEntity =
  | 'call'
  | 'message'
  | 'conversation'
  | 'attachment'
  | 'quality'
  | 'session'
  | 'user'
  | 'care_relationship'
  | 'care_team'
  | 'route'
  | 'recording'
  | 'api_key'
  | 'room_token'
  | 'webhook'
  /** A participant of a live room (entity id `room:identity`), acted on with an API key. */
  | 'participant';
export const AUDIT_ACTIONS = [
  'read',
  'create',
  'update',
  'delete',
  'download',
  'upload',
  'login',
  'logout',
  'login_failed',
  'token_reuse',
  'denied',
  'invite',
  'password_reset',
  'password_set',
  'disable',
  'enable',
  'link',
  'unlink',
  'consent',
  'refuse',
  'revoke',
] as const satisfies readonly AuditAction[];
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
export function auditEntry(
  ctx: AuditOrigin,
  actorId: string | null,
  action: AuditAction,
  entityType: AuditEntity,
  entityIds: string | readonly string[],
): AuditEntry {
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
export async function audit(
  db: Db,
  ctx: AuditOrigin,
  actorId: string | null,
  action: AuditAction,
  entityType: AuditEntity,
  entityIds: string | readonly string[],
): Promise<void> {
  await insertAuditEntries(db, [auditEntry(ctx, actorId, action, entityType, entityIds)]);
}

export const AUDIT_ENTITIES = [
  'call',
  'message',
  'conversation',
  'attachment',
  'quality',
  'session',
  'user',
  'care_relationship',
  'care_team',
  'route',
  'recording',
  'api_key',
  'room_token',
  'webhook',
  'participant',
] as const satisfies readonly AuditEntity[];

export interface AuditQuery {
  /** Rows touching this record (alone or in a page), of `entityType` when given. */
  entityId?: string | undefined;
  entityType?: AuditEntity | undefined;
  actorId?: string | undefined;
  action?: AuditAction | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Rows with a smaller id than this (the previous page's last). */
  beforeId?: number | undefined;
  limit: number;
}

/** Audit rows matching every given filter, newest first, with the actor's name. */
export async function searchAudit(db: Db, query: AuditQuery): Promise<Array<Selectable<AuditLogTable> & { actor_name: string | null }>> {
  let q = db.selectFrom('audit_log as a').leftJoin('users as u', 'u.id', 'a.actor_id').selectAll('a').select('u.display_name as actor_name');
  if (query.entityId !== undefined) {
    const id = query.entityId;
    // Every type listed when none is given: the (entity_type, entity_id) index still serves it.
    q = q
      .where('a.entity_type', 'in', query.entityType ? [query.entityType] : [...AUDIT_ENTITIES])
      .where((eb) => eb.or([eb('a.entity_id', '=', id), eb('a.entity_ids', '@>', sql<string[]>`array[${id}]::text[]`)]));
  } else if (query.entityType) {
    q = q.where('a.entity_type', '=', query.entityType);
  }
  if (query.actorId) q = q.where('a.actor_id', '=', query.actorId);
  if (query.action) q = q.where('a.action', '=', query.action);
  if (query.from) q = q.where('a.at', '>=', query.from);
  if (query.to) q = q.where('a.at', '<', query.to);
  if (query.beforeId !== undefined) q = q.where('a.id', '<', query.beforeId);
  return q.orderBy('a.id', 'desc').limit(query.limit).execute();
}
