import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { ApiError } from '../http/errors.js';
import type { RouteRegistry } from '../http/route.js';
import { nodeLoad } from './node-selector.js';

const MediaNodeSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    region: z.string(),
    announcedAddress: z.string(),
    draining: z.boolean(),
    capacity: z.object({ consumers: z.number() }),
    load: z.object({ rooms: z.number(), peers: z.number(), consumers: z.number(), workerCpu: z.array(z.number()) }),
    /** The selector's measure, 0..1 (see node-selector.ts). */
    score: z.number(),
    heartbeatAt: z.string(),
  })
  .meta({ id: 'MediaNode' });

export function registerMediaNodeRoutes(api: RouteRegistry, app: AppContext): void {
  api.define({
    method: 'get',
    path: '/api/admin/media-nodes',
    tag: 'ops',
    access: ['admin'],
    summary:
      'The media nodes in the Redis registry with their load (admin); empty without REDIS_URL (one node, MEDIA_PUBLIC_URL). ' +
      '503 SERVICE_UNAVAILABLE while Redis is not reachable (calls keep their media; new calls go to the last known placement or MEDIA_PUBLIC_URL)',
    response: z.object({ items: z.array(MediaNodeSchema) }),
    handler: async () => {
      const nodes = await app.placement.nodes().catch((err: unknown) => {
        app.logger.warn({ err }, 'media node registry read failed');
        throw new ApiError(
          'SERVICE_UNAVAILABLE',
          'the media node registry (Redis) is not reachable; calls in progress keep their media and new calls go to the last known placement or MEDIA_PUBLIC_URL; try again shortly',
        );
      });
      return {
        items: nodes
          .sort((a, b) => a.id.localeCompare(b.id))
          .map((n) => ({
            id: n.id,
            url: n.url,
            region: n.region,
            announcedAddress: n.announcedAddress,
            draining: n.draining,
            capacity: n.capacity,
            load: n.load,
            score: Math.round(nodeLoad(n) * 1000) / 1000,
            heartbeatAt: new Date(n.heartbeatAt).toISOString(),
          })),
      };
    },
  });
}
