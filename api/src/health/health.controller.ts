import Router from '@koa/router';

export interface HealthOptions {
  mediaInternalUrl: string;
  startedAt: Date;
}

/** GET /health: 200 when the API and the media server are up, 503 otherwise. */
export function healthRouter(options: HealthOptions): Router {
  const router = new Router();
  router.get('/health', async (ctx) => {
    let media: { status: string; workers?: number; rooms?: number } = { status: 'unreachable' };
    try {
      const res = await fetch(new URL('/health', options.mediaInternalUrl), { signal: AbortSignal.timeout(2000) });
      media = (await res.json()) as typeof media;
    } catch {
      // reported as unreachable
    }
    const ok = media.status === 'ok';
    ctx.status = ok ? 200 : 503;
    ctx.body = { status: ok ? 'ok' : 'degraded', api: 'ok', media, uptimeSeconds: Math.round((Date.now() - options.startedAt.getTime()) / 1000) };
  });
  return router;
}
