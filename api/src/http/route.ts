import Router from '@koa/router';
import type { Context } from 'koa';
import { type z } from 'zod';
import type { ApiKeyScope } from '@telemed/sdk/protocol';
import type { ApiKeyPrincipal } from '../api-key/api-key.service.js';
import type { Role } from '../user/user.table.js';
import { readJson } from './body.js';
import { ApiError } from './errors.js';

/**
 * Who may call a route: anyone, the media server (signed webhook), a metrics scraper (METRICS_TOKEN
 * bearer, or loopback without one; the handler checks), a third-party backend's API key with a
 * scope, or signed-in users of these roles.
 */
export type ApiKeyAccess = { readonly apiKey: ApiKeyScope };
export type Access = 'public' | 'media-server' | 'metrics-scraper' | ApiKeyAccess | readonly Role[];

export const isApiKeyAccess = (access: Access): access is ApiKeyAccess => typeof access === 'object' && 'apiKey' in access;

export const ALL_ROLES = ['patient', 'doctor', 'admin'] as const satisfies readonly Role[];

export interface AuthUser {
  id: string;
  role: Role;
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Schema = z.ZodType;
type Out<S> = S extends Schema ? z.output<S> : undefined;

export interface RouteInput<A extends Access, P, Q, B> {
  ctx: Context;
  user: A extends readonly Role[] ? AuthUser : undefined;
  apiKey: A extends ApiKeyAccess ? ApiKeyPrincipal : undefined;
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
}

export interface RouteSpec<
  A extends Access,
  P extends Schema | undefined,
  Q extends Schema | undefined,
  B extends Schema | undefined,
  R extends Schema | undefined,
> {
  method: Method;
  /** Koa-style path (`/api/calls/:id`). */
  path: string;
  tag: string;
  summary: string;
  access: A;
  params?: P;
  query?: Q;
  /** JSON body schema. Routes that read their body themselves (uploads, webhooks) leave it out. */
  body?: B;
  /** The JSON answer's schema (for the OpenAPI document); no schema means 204 No Content. */
  response?: R;
  status?: number;
  /** Other statuses that answer with the same body (a retried create's 200, a degraded health's 503), and what they mean. */
  alsoAnswers?: Readonly<Record<number, string>>;
  /** A response that is not JSON (metrics text, a file): its content types and what it is. */
  produces?: { contentTypes: readonly string[]; description: string };
  /** Request body description for routes that read the body themselves; `schema` documents its form. */
  rawBody?: { contentType: string; description: string; schema?: Schema };
  bodyLimitBytes?: number;
  handler(input: RouteInput<A, P, Q, B>): Promise<R extends Schema ? z.input<R> : void>;
}

export type AnyRouteSpec = RouteSpec<Access, Schema | undefined, Schema | undefined, Schema | undefined, Schema | undefined>;

export type Authenticate = (ctx: Context) => Promise<AuthUser>;
export type AuthenticateApiKey = (ctx: Context) => Promise<ApiKeyPrincipal>;

/** Told when a signed-in user is refused (403) by a route's role check or its handler: the audit log. */
export type OnDenied = (ctx: Context, user: AuthUser, route: string) => Promise<void>;

/** Every API route in one list: registered on the Koa router and described in the OpenAPI document. */
export class RouteRegistry {
  readonly router = new Router();
  readonly #specs: AnyRouteSpec[] = [];
  readonly #authenticate: Authenticate;
  readonly #authenticateApiKey: AuthenticateApiKey;
  readonly #onDenied: OnDenied | undefined;

  constructor(authenticate: Authenticate, authenticateApiKey: AuthenticateApiKey, onDenied?: OnDenied) {
    this.#authenticate = authenticate;
    this.#authenticateApiKey = authenticateApiKey;
    this.#onDenied = onDenied;
  }

  get specs(): readonly AnyRouteSpec[] {
    return this.#specs;
  }

  define<
    A extends Access,
    P extends Schema | undefined = undefined,
    Q extends Schema | undefined = undefined,
    B extends Schema | undefined = undefined,
    R extends Schema | undefined = undefined,
  >(spec: RouteSpec<A, P, Q, B, R>): void {
    this.#specs.push(spec as unknown as AnyRouteSpec);
    const route = `${spec.method.toUpperCase()} ${spec.path}`;
    this.router[spec.method](spec.path, async (ctx) => {
      let user: AuthUser | undefined;
      let apiKey: ApiKeyPrincipal | undefined;
      if (isApiKeyAccess(spec.access)) {
        apiKey = await this.#authenticateApiKey(ctx);
        if (!apiKey.scopes.includes(spec.access.apiKey)) throw new ApiError('FORBIDDEN', `this API key lacks the scope ${spec.access.apiKey}`);
      } else if (Array.isArray(spec.access)) {
        user = await this.#authenticate(ctx);
        if (!(spec.access as readonly Role[]).includes(user.role)) {
          await this.#onDenied?.(ctx, user, route);
          throw new ApiError('FORBIDDEN', `this route is for: ${spec.access.join(', ')}`);
        }
      }
      try {
        await this.#run(spec, ctx, user, apiKey);
      } catch (error) {
        if (user && error instanceof ApiError && error.code === 'FORBIDDEN') await this.#onDenied?.(ctx, user, route);
        throw error;
      }
    });
  }

  async #run(spec: AnyRouteSpec, ctx: Context, user: AuthUser | undefined, apiKey: ApiKeyPrincipal | undefined): Promise<void> {
    const params = spec.params ? spec.params.parse(ctx.params) : undefined;
    const query = spec.query ? spec.query.parse(ctx.query) : undefined;
    const body = spec.body ? spec.body.parse(await readJson(ctx, spec.bodyLimitBytes)) : undefined;
    const input = { ctx, user, apiKey, params, query, body } as unknown as RouteInput<Access, Schema | undefined, Schema | undefined, Schema | undefined>;
    // Set first so a handler can still choose another status (a retried create answers 200).
    if (spec.response) ctx.status = spec.status ?? 200;
    const result = await spec.handler(input);
    if (spec.response) ctx.body = result;
    else if (ctx.body === undefined) ctx.status = 204;
  }
}
