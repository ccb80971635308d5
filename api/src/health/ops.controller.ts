import { sql } from 'kysely';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { ApiError } from '../http/errors.js';
import type { RouteRegistry } from '../http/route.js';
import { buildOpenApi } from '../openapi/openapi.js';

export function registerOpsRoutes(api: RouteRegistry, app: AppContext): void {
  api.define({
    method: 'get', path: '/ready', tag: 'ops', access: 'public',
    summary: 'Readiness: 200 when the database answers, 503 otherwise',
    response: z.object({ status: z.literal('ready'), database: z.string() }),
    handler: async () => {
      try {
        await sql`select 1`.execute(app.db);
      } catch {
        throw new ApiError('SERVICE_UNAVAILABLE', 'the database is not reachable');
      }
      return { status: 'ready' as const, database: app.config.databaseUrl ? 'postgres' : 'pglite' };
    },
  });

  api.define({
    method: 'get', path: '/metrics', tag: 'ops', access: 'public',
    summary: 'Prometheus metrics: request rate and latency by route, active WebSockets, database pool',
    rawBody: undefined,
    handler: async ({ ctx }) => {
      ctx.type = app.metrics.registry.contentType;
      ctx.body = await app.metrics.registry.metrics();
    },
  });

  let document: Record<string, unknown> | undefined;
  api.define({
    method: 'get', path: '/api/openapi.json', tag: 'ops', access: 'public',
    summary: 'This API\'s OpenAPI 3.1 description, generated from the schemas that validate requests',
    response: z.record(z.string(), z.unknown()),
    handler: async () => (document ??= buildOpenApi(api.specs, { version: '0.1.0' })),
  });
}
