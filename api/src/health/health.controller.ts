import fs from 'node:fs';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import type { RouteRegistry } from '../http/route.js';

export const API_VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface HealthOptions {
  startedAt: Date;
  /** How this instance runs, for the admin view. */
  setup: { database: string; bus: string; attachments: string };
}

/** The media server's own /health answer (its worker processes, rooms, participants). */
async function mediaHealth(mediaInternalUrl: string): Promise<{ status: string } & Record<string, unknown>> {
  try {
    const res = await fetch(new URL('/health', mediaInternalUrl), { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { status?: unknown } & Record<string, unknown>;
    return { ...body, status: typeof body.status === 'string' ? body.status : 'degraded' };
  } catch {
    return { status: 'unreachable' };
  }
}

const MediaStatus = z.object({ status: z.string() });

/**
 * With the Redis registry, the media tier is up while one registered node takes rooms (a node that
 * heartbeats is alive); without it (or while none is registered) MEDIA_INTERNAL_URL's /health says.
 */
async function mediaStatus(app: AppContext): Promise<{ status: string } & Record<string, unknown>> {
  const nodes = await app.placement.nodes().catch(() => []);
  if (nodes.length === 0) return mediaHealth(app.config.mediaInternalUrl);
  const open = nodes.filter((n) => !n.draining).length;
  return { status: open > 0 ? 'ok' : 'degraded', nodes: nodes.length, draining: nodes.length - open, rooms: nodes.reduce((sum, n) => sum + n.load.rooms, 0) };
}

export function registerHealthRoutes(api: RouteRegistry, app: AppContext, options: HealthOptions): void {
  // Public, so it says only whether things are up: no process ids, counts or hosts.
  api.define({
    method: 'get',
    path: '/health',
    tag: 'ops',
    access: 'public',
    summary:
      'Platform status: 200 when the API and the media server are up, 503 otherwise (status and version only; details at /api/admin/health). Not a liveness probe: use /live',
    response: z.object({ status: z.enum(['ok', 'degraded']), api: z.literal('ok'), media: MediaStatus, version: z.string() }),
    alsoAnswers: { 503: 'Degraded: the media server is not ok' },
    handler: async ({ ctx }) => {
      const media = await mediaStatus(app);
      const ok = media.status === 'ok';
      ctx.status = ok ? 200 : 503;
      return { status: ok ? ('ok' as const) : ('degraded' as const), api: 'ok' as const, media: { status: media.status }, version: API_VERSION };
    },
  });

  api.define({
    method: 'get',
    path: '/api/admin/health',
    tag: 'ops',
    access: ['admin'],
    summary: "Health in detail (admin): the media server's workers and rooms, this API instance's uptime, database, bus and attachment store",
    response: z.object({
      status: z.enum(['ok', 'degraded']),
      version: z.string(),
      api: z.object({ pid: z.number(), uptimeSeconds: z.number(), database: z.string(), bus: z.string(), attachments: z.string(), websockets: z.number() }),
      media: MediaStatus.catchall(z.unknown()),
    }),
    handler: async () => {
      const media = await mediaStatus(app);
      const websockets = (await app.metrics.websockets.get()).values[0]?.value ?? 0;
      return {
        status: media.status === 'ok' ? ('ok' as const) : ('degraded' as const),
        version: API_VERSION,
        api: { pid: process.pid, uptimeSeconds: Math.round((Date.now() - options.startedAt.getTime()) / 1000), ...options.setup, websockets },
        media,
      };
    },
  });
}
