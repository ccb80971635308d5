import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { audit } from '../audit/audit.service.js';
import type { RouteRegistry } from '../http/route.js';
import { RoleSchema } from '../http/resource.schema.js';
import { dbText, Uuid } from '../http/input.schema.js';
import { listUsers } from '../user/user.repository.js';
import type { UserRow } from '../user/user.table.js';
import { AdminUserSchema, DisplayName, InvitationSchema, InvitationToken, Password } from './account.schema.js';
import {
  acceptLink,
  createAccount,
  describeLink,
  editAccount,
  issueLink,
  requireUser,
  setAccountDisabled,
  toAdminUser,
  type IssuedLink,
} from './account.service.js';
import { page } from '../http/resource.schema.js';

const UserId = z.object({ id: Uuid });

/**
 * Account management (admins): create accounts by invitation, edit names and roles, disable and
 * enable, reset passwords; and the public half of the links (look one up, set the password).
 */
export function registerAccountRoutes(api: RouteRegistry, app: AppContext): void {
  /** Mails a link (or hands it back when it cannot be mailed). */
  const deliver = async (user: UserRow, link: IssuedLink): Promise<z.input<typeof InvitationSchema>> => {
    const url = `${app.config.appBaseUrl.replace(/\/$/, '')}/#/set-password?token=${link.token}`;
    const sent = await app.notifications.sendAccountLink(user.email, { purpose: link.purpose, url, expiresAt: link.expiresAt });
    return { purpose: link.purpose, expiresAt: link.expiresAt.toISOString(), mailed: sent === 'sent', ...(sent === 'sent' ? {} : { url }) };
  };

  api.define({
    method: 'get',
    path: '/api/admin/users',
    tag: 'admin',
    access: ['admin'],
    summary: 'All users, by e-mail, with their account status (admin)',
    query: z.object({
      role: RoleSchema.optional(),
      q: dbText({ max: 100, trim: true }).optional().describe('part of the e-mail or the name'),
      cursor: dbText({ max: 254 }).optional().describe('nextCursor of the previous page'),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
    response: page(AdminUserSchema),
    handler: async ({ query }) => {
      const rows = await listUsers(app.db, { role: query.role, search: query.q || undefined, afterEmail: query.cursor, limit: query.limit + 1 });
      const items = rows.slice(0, query.limit).map(toAdminUser);
      return { items, nextCursor: rows.length > query.limit ? items[items.length - 1]!.email : null };
    },
  });

  api.define({
    method: 'post',
    path: '/api/admin/users',
    tag: 'admin',
    access: ['admin'],
    status: 201,
    summary: 'Create a patient, doctor or admin: the person gets a one-time link by e-mail to set their password (admin)',
    body: z.strictObject({ email: z.email().max(254), displayName: DisplayName, role: RoleSchema }),
    response: z.object({ user: AdminUserSchema, invitation: InvitationSchema }),
    handler: async ({ ctx, user, body }) => {
      const { row, link } = await app.db.transaction().execute(async (trx) => {
        const created = await createAccount(trx, body);
        const issued = await issueLink(trx, created, user.id, app.config.invitationTtlSeconds);
        await audit(trx, ctx, user.id, 'create', 'user', created.id);
        await audit(trx, ctx, user.id, 'invite', 'user', created.id);
        return { row: created, link: issued };
      });
      return { user: toAdminUser(row), invitation: await deliver(row, link) };
    },
  });

  api.define({
    method: 'get',
    path: '/api/admin/users/:id',
    tag: 'admin',
    access: ['admin'],
    summary: 'One user with their account status (admin)',
    params: UserId,
    response: AdminUserSchema,
    handler: async ({ params }) => toAdminUser(await requireUser(app.db, params.id)),
  });

  api.define({
    method: 'patch',
    path: '/api/admin/users/:id',
    tag: 'admin',
    access: ['admin'],
    summary: "Change a user's name or role; a role change ends their sessions (their tokens carry the role) (admin)",
    params: UserId,
    body: z
      .strictObject({ displayName: DisplayName.optional(), role: RoleSchema.optional() })
      .refine((edit) => edit.displayName !== undefined || edit.role !== undefined, 'give displayName, role or both'),
    response: AdminUserSchema,
    handler: async ({ ctx, user, params, body }) => {
      const { row, roleChanged } = await app.db.transaction().execute(async (trx) => {
        const edited = await editAccount(trx, user.id, params.id, body);
        await audit(trx, ctx, user.id, 'update', 'user', params.id);
        return edited;
      });
      if (roleChanged) await app.sessions.revokeUserSessions(row.id, 'admin');
      return toAdminUser(row);
    },
  });

  for (const disabled of [true, false]) {
    api.define({
      method: 'post',
      path: `/api/admin/users/:id/${disabled ? 'disable' : 'enable'}`,
      tag: 'admin',
      access: ['admin'],
      summary: disabled
        ? 'Disable an account: it cannot sign in or refresh, and its sessions, event sockets and media sessions end at once (admin)'
        : 'Enable a disabled account again (admin)',
      params: UserId,
      response: AdminUserSchema,
      handler: async ({ ctx, user, params }) => {
        const { row, changed } = await app.db.transaction().execute(async (trx) => {
          const result = await setAccountDisabled(trx, user.id, params.id, disabled);
          if (result.changed) await audit(trx, ctx, user.id, disabled ? 'disable' : 'enable', 'user', params.id);
          return result;
        });
        if (disabled && changed) {
          await app.sessions.revokeUserSessions(row.id, 'account-disabled');
          await app.mediaRevocation.revoke(row.id);
        }
        return toAdminUser(row);
      },
    });
  }

  api.define({
    method: 'post',
    path: '/api/admin/users/:id/reset-password',
    tag: 'admin',
    access: ['admin'],
    summary: 'Send a one-time link to set a new password (an invitation again while none was set); the old password works until the link is used (admin)',
    params: UserId,
    response: InvitationSchema,
    handler: async ({ ctx, user, params }) => {
      const { row, link } = await app.db.transaction().execute(async (trx) => {
        const target = await requireUser(trx, params.id);
        const issued = await issueLink(trx, target, user.id, app.config.invitationTtlSeconds);
        await audit(trx, ctx, user.id, issued.purpose === 'invite' ? 'invite' : 'password_reset', 'user', target.id);
        return { row: target, link: issued };
      });
      return deliver(row, link);
    },
  });

  api.define({
    method: 'post',
    path: '/api/invitations/lookup',
    tag: 'auth',
    access: 'public',
    summary: 'Who an invitation or password-reset link is for (the set-password page); 404 once used or expired',
    body: z.strictObject({ token: InvitationToken }),
    response: z.object({ email: z.string(), displayName: z.string(), purpose: z.enum(['invite', 'reset']), expiresAt: z.string() }),
    handler: async ({ ctx, body }) => {
      await app.loginAddressLimiter.hit(ctx.ip);
      return describeLink(app.db, body.token);
    },
  });

  api.define({
    method: 'post',
    path: '/api/invitations/accept',
    tag: 'auth',
    access: 'public',
    summary: 'Set the password through a one-time link; every session of the account ends (a reset locks out whoever had the old password)',
    body: z.strictObject({ token: InvitationToken, password: Password }),
    handler: async ({ ctx, body }) => {
      await app.loginAddressLimiter.hit(ctx.ip);
      const { userId } = await app.db.transaction().execute(async (trx) => {
        const accepted = await acceptLink(trx, body.token, body.password, app.config.passwordScryptN);
        await audit(trx, ctx, accepted.userId, 'password_set', 'user', accepted.userId);
        return accepted;
      });
      await app.sessions.revokeUserSessions(userId, 'password-reset');
    },
  });
}
