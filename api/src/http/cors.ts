import type { Middleware } from 'koa';

/** CORS for an allow-list of exact origins. No credentials: auth is a bearer header, never a cookie. */
export function corsMiddleware(allowedOrigins: readonly string[]): Middleware {
  const allowed = new Set(allowedOrigins);
  return async (ctx, next) => {
    const origin = ctx.get('origin');
    ctx.vary('Origin');
    if (origin && allowed.has(origin)) {
      ctx.set('access-control-allow-origin', origin);
      ctx.set('access-control-expose-headers', 'x-request-id, retry-after');
      if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
        ctx.set('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE');
        ctx.set('access-control-allow-headers', 'authorization, content-type, x-request-id');
        ctx.set('access-control-max-age', '600');
        ctx.status = 204;
        return;
      }
    }
    await next();
  };
}
