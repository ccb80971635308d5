import { WEBHOOK_EVENT_TYPES } from '@telemed/server-sdk';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { Uuid, dbText } from '../http/input.schema.js';
import { WebhookDeliverySchema, WebhookDeliveryStatusSchema, WebhookSchema } from '../http/resource.schema.js';
import type { RouteRegistry } from '../http/route.js';

const RegisterWebhook = z.strictObject({
  url: z.string().min(1).max(2000).describe('https URL (http and private addresses only with WEBHOOK_ALLOW_PRIVATE_TARGETS)'),
  description: dbText({ max: 200 }).optional(),
  eventTypes: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1),
});
const RegisteredWebhook = z.object({ webhook: WebhookSchema, secret: z.string().describe('The signing secret (whsec_…): shown once') });
const DeliveryParams = z.object({ id: Uuid, deliveryId: Uuid });

export function registerWebhookRoutes(api: RouteRegistry, app: AppContext): void {
  api.define({
    method: 'post',
    path: '/api/admin/webhooks',
    tag: 'admin',
    access: ['admin'],
    status: 201,
    summary: 'Register a webhook endpoint for call and recording events; the answer carries its signing secret, which is never shown again',
    body: RegisterWebhook,
    response: RegisteredWebhook,
    handler: async ({ ctx, user, body }) => {
      const created = await app.webhooks.register(app.db, user.id, body);
      await app.auditLog.write(ctx, user.id, 'create', 'webhook', created.webhook.id);
      return created;
    },
  });

  api.define({
    method: 'get',
    path: '/api/admin/webhooks',
    tag: 'admin',
    access: ['admin'],
    summary: 'Every webhook endpoint (never their secrets), newest first, disabled ones included',
    response: z.object({ items: z.array(WebhookSchema) }),
    handler: async ({ ctx, user }) => {
      const items = await app.webhooks.list(app.db);
      await app.auditLog.write(
        ctx,
        user.id,
        'read',
        'webhook',
        items.map((w) => w.id),
      );
      return { items };
    },
  });

  api.define({
    method: 'post',
    path: '/api/admin/webhooks/:id/disable',
    tag: 'admin',
    access: ['admin'],
    summary: 'Disable a webhook endpoint: nothing more is sent to it (its delivery log stays)',
    params: z.object({ id: Uuid }),
    response: WebhookSchema,
    handler: async ({ ctx, user, params }) => {
      const webhook = await app.webhooks.disable(app.db, params.id);
      await app.auditLog.write(ctx, user.id, 'disable', 'webhook', webhook.id);
      return webhook;
    },
  });

  api.define({
    method: 'delete',
    path: '/api/admin/webhooks/:id',
    tag: 'admin',
    access: ['admin'],
    summary: 'Delete a webhook endpoint and its delivery log: nothing more is sent to it, pending deliveries included (disable it instead to keep the log)',
    params: z.object({ id: Uuid }),
    handler: async ({ ctx, user, params }) => {
      await app.webhooks.delete(app.db, params.id);
      await app.auditLog.write(ctx, user.id, 'delete', 'webhook', params.id);
    },
  });

  api.define({
    method: 'get',
    path: '/api/admin/webhooks/:id/deliveries',
    tag: 'admin',
    access: ['admin'],
    summary: "A webhook's delivery log, newest first: status, attempts, last error and response code",
    params: z.object({ id: Uuid }),
    query: z.object({ status: WebhookDeliveryStatusSchema.optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
    response: z.object({ items: z.array(WebhookDeliverySchema) }),
    handler: async ({ ctx, user, params, query }) => {
      const items = await app.webhooks.deliveries(app.db, params.id, query);
      await app.auditLog.write(ctx, user.id, 'read', 'webhook', params.id);
      return { items };
    },
  });

  api.define({
    method: 'post',
    path: '/api/admin/webhooks/:id/deliveries/:deliveryId/redeliver',
    tag: 'admin',
    access: ['admin'],
    summary: 'Send a delivered or failed delivery again (a new round of attempts, the same event id and body)',
    params: DeliveryParams,
    response: WebhookDeliverySchema,
    handler: async ({ ctx, user, params }) => {
      const delivery = await app.webhooks.redeliver(app.db, params.id, params.deliveryId);
      await app.auditLog.write(ctx, user.id, 'update', 'webhook', params.id);
      app.webhookDispatcher.nudge();
      return delivery;
    },
  });

  api.define({
    method: 'post',
    path: '/api/admin/webhooks/:id/test',
    tag: 'admin',
    access: ['admin'],
    status: 201,
    summary: 'Send a signed webhook.ping to the endpoint; follow it in the delivery log',
    params: z.object({ id: Uuid }),
    response: WebhookDeliverySchema,
    handler: async ({ ctx, user, params }) => {
      const delivery = await app.webhooks.ping(app.db, params.id);
      await app.auditLog.write(ctx, user.id, 'create', 'webhook', params.id);
      app.webhookDispatcher.nudge();
      return delivery;
    },
  });

  api.define({
    method: 'post',
    path: '/api/server/webhooks/:id/test',
    tag: 'server',
    access: { apiKey: 'webhooks' },
    status: 201,
    summary: 'Send a signed webhook.ping to the endpoint with an API key (scope webhooks)',
    params: z.object({ id: Uuid }),
    response: WebhookDeliverySchema,
    handler: async ({ ctx, apiKey, params }) => {
      const delivery = await app.webhooks.ping(app.db, params.id);
      await app.auditLog.write(ctx, null, 'create', 'webhook', [params.id, apiKey.id]);
      app.webhookDispatcher.nudge();
      return delivery;
    },
  });

  api.define({
    method: 'get',
    path: '/api/server/webhooks/:id/deliveries/:deliveryId',
    tag: 'server',
    access: { apiKey: 'webhooks' },
    summary: 'One delivery of a webhook, with an API key (scope webhooks): to follow a test ping',
    params: DeliveryParams,
    response: WebhookDeliverySchema,
    handler: async ({ ctx, apiKey, params }) => {
      const delivery = await app.webhooks.delivery(app.db, params.id, params.deliveryId);
      await app.auditLog.write(ctx, null, 'read', 'webhook', [params.id, apiKey.id]);
      return delivery;
    },
  });
}
