import { sql } from 'kysely';
import { z } from 'zod';
import { isLoopbackAddress, sameSecret } from '@telemed/server-kit';
import type { AppContext } from '../app-context.js';
import { ApiError } from '../http/errors.js';
import type { RouteRegistry } from '../http/route.js';
import { buildOpenApi } from '../openapi/openapi.js';
import { API_VERSION } from './health.controller.js';

export function registerOpsRoutes(api: RouteRegistry, app: AppContext): void {
  api.define({
    method: 'get',
    path: '/live',
    tag: 'ops',
    access: 'public',
    summary: 'Liveness: 200 whenever this process answers (it asks nothing of the database or the media server; restart the process only when this fails)',
    response: z.object({ status: z.literal('live') }),
    handler: async () => ({ status: 'live' as const }),
  });

  api.define({
    method: 'get',
    path: '/ready',
    tag: 'ops',
    access: 'public',
    summary: 'Readiness: 200 when the database answers, 503 otherwise and while the instance is stopping',
    response: z.object({ status: z.literal('ready'), database: z.string() }),
    handler: async () => {
      if (app.draining()) throw new ApiError('SERVICE_UNAVAILABLE', 'this instance is stopping');
      try {
        await sql`select 1`.execute(app.db);
      } catch {
        throw new ApiError('SERVICE_UNAVAILABLE', 'the database is not reachable');
      }
      return { status: 'ready' as const, database: app.config.databaseUrl ? 'postgres' : 'pglite' };
    },
  });

  api.define({
    method: 'get',
    path: '/metrics',
    tag: 'ops',
    access: 'metrics-scraper',
    summary:
      'Prometheus metrics: request rate and latency by route, /events sockets and heartbeat timeouts, query time, slow and failed queries, database pool and probe. With METRICS_TOKEN set: `Authorization: Bearer <METRICS_TOKEN>`; without it: loopback clients only',
    produces: { contentTypes: ['text/plain'], description: 'Prometheus text exposition format 0.0.4' },
    handler: async ({ ctx }) => {
      const token = app.config.metricsToken;
      if (token) {
        const given = /^Bearer (.+)$/i.exec(ctx.get('authorization'))?.[1] ?? '';
        if (!sameSecret(given, token)) throw new ApiError('UNAUTHORIZED', 'metrics need the METRICS_TOKEN bearer token');
      } else if (!isLoopbackAddress(ctx.req.socket.remoteAddress)) {
        // The socket's address, never X-Forwarded-For: a proxy on this host must set METRICS_TOKEN.
        throw new ApiError('FORBIDDEN', 'metrics are served to loopback clients only (set METRICS_TOKEN to scrape from elsewhere)');
      }
      ctx.type = app.metrics.registry.contentType;
      ctx.body = await app.metrics.registry.metrics();
    },
  });

  let document: Record<string, unknown> | undefined;
  api.define({
    method: 'get',
    path: '/api/openapi.json',
    tag: 'ops',
    access: 'public',
    summary: "This API's OpenAPI 3.1 description, generated from the schemas that validate requests",
    response: z.record(z.string(), z.unknown()),
    handler: async () => (document ??= buildOpenApi(api.specs, { version: API_VERSION })),
  });
}
