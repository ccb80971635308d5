import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { ALL_ROLES, type RouteRegistry } from '../http/route.js';
import { SessionSchema, UserSchema, RoleSchema } from '../http/resource.schema.js';
import { findContacts, findUserById } from '../user/user.repository.js';
import { toUser } from '../user/user.service.js';
import { ApiError } from '../http/errors.js';
import { login, logout, refresh } from './auth.service.js';
import { DEMO_PASSWORD, DEMO_USERS } from '../db/demo-users.js';

const LoginRequest = z.strictObject({ email: z.email().max(254), password: z.string().min(1).max(256) });
const RefreshRequest = z.strictObject({ refreshToken: z.string().min(20).max(200) });

export function registerAuthRoutes(api: RouteRegistry, app: AppContext): void {
  const settings = app.config;

  api.define({
    method: 'post',
    path: '/api/auth/login',
    tag: 'auth',
    access: 'public',
    summary: 'Log in with e-mail and password: a short-lived access token and a rotating refresh token',
    body: LoginRequest,
    response: SessionSchema,
    handler: async ({ ctx, body }) => {
      // Per address across accounts (one password tried on many), then per address and account.
      await app.loginAddressLimiter.hit(ctx.ip);
      await app.loginLimiter.hit(`${ctx.ip}|${body.email.toLowerCase()}`);
      const session = await login(app.db, settings, body.email, body.password);
      if ('error' in session) {
        // A known account is the record; an unknown e-mail is not written down (it may be anything).
        await app.auditLog.write(ctx, session.userId, 'login_failed', 'user', session.userId ?? 'unknown');
        throw session.error;
      }
      await app.auditLog.write(ctx, session.user.id, 'login', 'session', session.user.id);
      return session;
    },
  });

  api.define({
    method: 'post',
    path: '/api/auth/refresh',
    tag: 'auth',
    access: 'public',
    summary: 'Trade a refresh token for a new access token and a new refresh token (the old one stops working)',
    body: RefreshRequest,
    response: SessionSchema,
    handler: async ({ ctx, body }) => {
      const result = await app.db.transaction().execute((trx) => refresh(trx, settings, body.refreshToken));
      if ('error' in result) {
        if (result.revoked) await app.sessions.sessionRevoked(result.revoked.sessionId, result.revoked.userId);
        if (result.reused && result.revoked) await app.auditLog.write(ctx, result.revoked.userId, 'token_reuse', 'session', result.revoked.sessionId);
        throw result.error;
      }
      return result;
    },
  });

  api.define({
    method: 'post',
    path: '/api/auth/logout',
    tag: 'auth',
    access: 'public',
    summary: 'End the session of a refresh token: its refresh tokens stop working at once, its access tokens and event sockets within moments',
    body: RefreshRequest,
    handler: async ({ ctx, body }) => {
      const ended = await app.db.transaction().execute((trx) => logout(trx, body.refreshToken));
      if (!ended) return;
      await app.sessions.sessionRevoked(ended.sessionId, ended.userId);
      await app.auditLog.write(ctx, ended.userId, 'logout', 'session', ended.userId);
    },
  });

  api.define({
    method: 'get',
    path: '/api/users/me',
    tag: 'users',
    access: ALL_ROLES,
    summary: 'The signed-in user',
    response: UserSchema,
    handler: async ({ user }) => {
      const row = await findUserById(app.db, user.id);
      if (!row) throw new ApiError('UNAUTHORIZED', 'the account no longer exists');
      return toUser(row);
    },
  });

  api.define({
    method: 'get',
    path: '/api/users/contacts',
    tag: 'users',
    access: ['patient', 'doctor'],
    summary: "Users the caller may call and message: a patient's doctors; a doctor's patients and colleagues",
    response: z.object({ items: z.array(UserSchema) }),
    handler: async ({ user }) => ({ items: (await findContacts(app.db, user)).map(toUser) }),
  });

  if (settings.mode !== 'production' && (settings.seedDemo ?? settings.mode === 'development')) {
    api.define({
      method: 'get',
      path: '/api/demo/accounts',
      tag: 'auth',
      access: 'public',
      summary: 'The seeded demo logins (development and test mode only; absent in production)',
      response: z.object({ items: z.array(z.object({ email: z.string(), password: z.string(), displayName: z.string(), role: RoleSchema })) }),
      handler: async () => ({ items: DEMO_USERS.map((u) => ({ email: u.email, password: DEMO_PASSWORD, displayName: u.displayName, role: u.role })) }),
    });
  }
}
