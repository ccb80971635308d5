import type { Insertable } from 'kysely';
import type { Context } from 'koa';
import type { Db } from '../db/database.js';
import type { AuditLogTable } from './audit.table.js';

export type AuditAction = 'read' | 'create' | 'update' | 'download' | 'upload' | 'login' | 'logout';
export type AuditEntity = 'call' | 'message' | 'conversation' | 'attachment' | 'quality' | 'session' | 'user';
/** Where a request came from: its address and request id. */
export type AuditOrigin = Pick<Context, 'ip' | 'state'>;

/** The audit rows of one request touching some records: one per record, stamped now. */
export function auditRows(ctx: AuditOrigin, actorId: string | null, action: AuditAction, entityType: AuditEntity, entityIds: string | readonly string[]): Array<Insertable<AuditLogTable>> {
  const ids = typeof entityIds === 'string' ? [entityIds] : entityIds;
  const requestId = typeof ctx.state.requestId === 'string' ? ctx.state.requestId : null;
  const at = new Date();
  return ids.map((id) => ({ actor_id: actorId, action, entity_type: entityType, entity_id: id, ip: ctx.ip || null, request_id: requestId, at }));
}

/**
 * Who read or wrote which record, when and from where. Never the record's content. This writes
 * with `db` (use it inside a transaction, so the row commits with the change); outside one, use
 * the app's AuditWriter, which shares one insert and commit between concurrent requests.
 */
export async function audit(db: Db, ctx: AuditOrigin, actorId: string | null, action: AuditAction, entityType: AuditEntity, entityIds: string | readonly string[]): Promise<void> {
  const rows = auditRows(ctx, actorId, action, entityType, entityIds);
  if (rows.length > 0) await db.insertInto('audit_log').values(rows).execute();
}
