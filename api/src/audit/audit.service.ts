import type { Context } from 'koa';
import type { Db } from '../db/database.js';

export type AuditAction = 'read' | 'create' | 'update' | 'download' | 'upload' | 'login' | 'logout';
export type AuditEntity = 'call' | 'message' | 'conversation' | 'attachment' | 'quality' | 'session' | 'user';

/** Who read or wrote which record, when and from where. Never the record's content. */
export async function audit(db: Db, ctx: Context, actorId: string | null, action: AuditAction, entityType: AuditEntity, entityIds: string | readonly string[]): Promise<void> {
  const ids = typeof entityIds === 'string' ? [entityIds] : entityIds;
  if (ids.length === 0) return;
  const requestId = typeof ctx.state.requestId === 'string' ? ctx.state.requestId : null;
  await db
    .insertInto('audit_log')
    .values(ids.map((id) => ({ actor_id: actorId, action, entity_type: entityType, entity_id: id, ip: ctx.ip || null, request_id: requestId })))
    .execute();
}
