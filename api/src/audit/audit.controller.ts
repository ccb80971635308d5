import type { AuditRow } from '@telemed/sdk';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { dbText, dbTimestamp, Uuid } from '../http/input.schema.js';
import type { RouteRegistry } from '../http/route.js';
import { page, same } from '../http/resource.schema.js';
import { AUDIT_ACTIONS, AUDIT_ENTITIES, searchAudit } from './audit.service.js';

const AuditRowShape = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actorId: z.string().nullable(),
    actorName: z.string().nullable(),
    action: z.string(),
    entityType: z.string(),
    entityId: z.string().describe("the record, or '*' when the row covers several (entityIds)"),
    entityIds: z.array(z.string()).nullable(),
    ip: z.string().nullable(),
    requestId: z.string().nullable(),
  })
  .meta({ id: 'AuditRow' });
const AuditRowSchema = same<typeof AuditRowShape, AuditRow>(AuditRowShape, true);

/** The audit log for admins: who touched record X, what did user Y do, in a date range. */
export function registerAuditRoutes(api: RouteRegistry, app: AppContext): void {
  api.define({
    method: 'get',
    path: '/api/admin/audit',
    tag: 'admin',
    access: ['admin'],
    summary: 'Search the audit log by record, actor, action and time, newest first (admin)',
    query: z.object({
      entityId: dbText({ min: 1, max: 200, trim: true }).optional().describe('rows touching this record (alone or in a page)'),
      entityType: z.enum(AUDIT_ENTITIES).optional(),
      actorId: Uuid.optional().describe('rows of what this user did'),
      action: z.enum(AUDIT_ACTIONS).optional(),
      from: dbTimestamp().optional().describe('at or after'),
      to: dbTimestamp().optional().describe('before'),
      cursor: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional().describe('nextCursor of the previous page'),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
    response: page(AuditRowSchema),
    handler: async ({ query }) => {
      const rows = await searchAudit(app.db, {
        entityId: query.entityId,
        entityType: query.entityType,
        actorId: query.actorId,
        action: query.action,
        from: query.from ? new Date(query.from) : undefined,
        to: query.to ? new Date(query.to) : undefined,
        beforeId: query.cursor,
        limit: query.limit + 1,
      });
      const items = rows.slice(0, query.limit).map((r) => ({
        id: Number(r.id),
        at: r.at.toISOString(),
        actorId: r.actor_id,
        actorName: r.actor_name,
        action: r.action,
        entityType: r.entity_type,
        entityId: r.entity_id,
        entityIds: r.entity_ids,
        ip: r.ip,
        requestId: r.request_id,
      }));
      return { items, nextCursor: rows.length > query.limit ? String(items[items.length - 1]!.id) : null };
    },
  });
}
