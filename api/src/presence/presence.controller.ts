import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { ApiError } from '../http/errors.js';
import { ALL_ROLES, type RouteRegistry } from '../http/route.js';
import { PresenceSchema } from '../http/resource.schema.js';
import { Uuid } from '../http/input.schema.js';
import { findContacts } from '../user/user.repository.js';

export function registerPresenceRoutes(api: RouteRegistry, app: AppContext): void {
  api.define({
    method: 'get',
    path: '/api/presence',
    tag: 'presence',
    access: ALL_ROLES,
    summary: "Presence of the caller's contacts (or of the listed ones among them)",
    query: z.object({ userIds: z.string().max(4000).optional().describe('comma-separated user ids') }),
    response: z.object({ items: z.array(PresenceSchema) }),
    handler: async ({ user, query }) => {
      const contacts = (await findContacts(app.db, user)).map((u) => u.id);
      let ids = contacts;
      if (query.userIds) {
        const wanted = query.userIds.split(',').map((id) => Uuid.parse(id.trim()));
        const allowed = new Set([...contacts, user.id]);
        if (wanted.some((id) => !allowed.has(id))) throw new ApiError('FORBIDDEN', 'you can see the presence of your contacts only');
        ids = wanted;
      }
      return { items: await app.presence.get(ids) };
    },
  });

  api.define({
    method: 'put',
    path: '/api/presence',
    tag: 'presence',
    access: ALL_ROLES,
    summary: "Set the caller's own status (online clears away/busy); offline and in_call are derived from connections and calls",
    body: z.strictObject({ status: z.enum(['online', 'away', 'busy']) }),
    response: PresenceSchema,
    handler: async ({ user, body }) => app.presence.change(user.id, { manualStatus: body.status === 'online' ? null : body.status }),
  });

  api.define({
    method: 'get',
    path: '/api/admin/presence',
    tag: 'admin',
    access: ['admin'],
    summary: 'Presence of any users (admin): the listed ones, or everyone not offline',
    // 200 ids: a URL over 16 KiB never reaches the API (Node answers 431).
    query: z.object({
      userIds: z
        .string()
        .max(200 * 37)
        .optional()
        .describe('comma-separated user ids, at most 200'),
    }),
    response: z.object({ items: z.array(PresenceSchema) }),
    handler: async ({ query }) => {
      if (query.userIds) return { items: await app.presence.get(query.userIds.split(',').map((id) => Uuid.parse(id.trim()))) };
      const online = await app.db.selectFrom('presence').select('user_id').where('status', '!=', 'offline').orderBy('updated_at', 'desc').limit(1000).execute();
      return { items: await app.presence.get(online.map((r) => r.user_id)) };
    },
  });
}
