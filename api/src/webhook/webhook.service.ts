import { randomBytes, randomUUID } from 'node:crypto';
import type { Call, CallRecording, Webhook, WebhookDelivery } from '@telemed/sdk';
import type { WebhookCall, WebhookEventData, WebhookEventType, WebhookRecording } from '@telemed/server-sdk';
import type { Encryptor } from '../crypto/encryption.js';
import type { Db } from '../db/database.js';
import { ApiError } from '../http/errors.js';
import { assertPublicHost, checkWebhookUrl } from './webhook-target.js';
import {
  deleteEndpoint,
  disableEndpoint,
  endpointsFor,
  findDelivery,
  findEndpoint,
  insertDeliveries,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  resetDelivery,
  type DeliveryRow,
  type EndpointRow,
} from './webhook.repository.js';
import type { WebhookDeliveryStatus } from './webhook.table.js';

/** An event queued in a transaction for the webhooks (see Outbox.webhook). */
export interface PendingWebhook<K extends WebhookEventType = WebhookEventType> {
  type: K;
  data: WebhookEventData[K];
}

const SECRET_AAD = 'webhook-secret';

const toEndpoint = (row: EndpointRow): Webhook => ({
  id: row.id,
  url: row.url,
  description: row.description,
  eventTypes: row.event_types,
  createdBy: row.created_by,
  createdAt: row.created_at.toISOString(),
  disabledAt: row.disabled_at?.toISOString() ?? null,
});

export const toDelivery = (row: DeliveryRow): WebhookDelivery => ({
  id: row.id,
  endpointId: row.endpoint_id,
  eventId: row.event_id,
  eventType: row.event_type,
  status: row.status,
  attempts: row.attempts,
  nextAttemptAt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
  lastError: row.last_error,
  responseStatus: row.response_status,
  createdAt: row.created_at.toISOString(),
  deliveredAt: row.delivered_at?.toISOString() ?? null,
});

/** A call as webhooks show it: ids and states, not names (an endpoint is outside the clinic). */
export const webhookCall = (call: Call): WebhookCall => ({
  id: call.id,
  type: call.type,
  status: call.status,
  initiatorId: call.initiatorId,
  createdAt: call.createdAt,
  startedAt: call.startedAt,
  endedAt: call.endedAt,
  durationSeconds: call.durationSeconds,
  endReason: call.endReason,
  scheduledFor: call.scheduledFor,
  participants: call.participants.map((p) => ({ userId: p.userId, role: p.role, status: p.status })),
});

export const webhookRecording = (recording: CallRecording): WebhookRecording => ({
  id: recording.id,
  callId: recording.callId,
  state: recording.state,
  startedAt: recording.startedAt,
  stoppedAt: recording.stoppedAt,
  durationSeconds: recording.durationSeconds,
});

/** Endpoints (registration, the signing secret) and the delivery rows events become. */
export class WebhookService {
  readonly #encryptor: Encryptor;
  readonly #allowPrivate: boolean;

  constructor(options: { encryptor: Encryptor; allowPrivateTargets: boolean }) {
    this.#encryptor = options.encryptor;
    this.#allowPrivate = options.allowPrivateTargets;
  }

  /** A new endpoint: the secret is returned once (and kept encrypted, to sign with). */
  async register(
    db: Db,
    createdBy: string,
    input: { url: string; description?: string | undefined; eventTypes: readonly string[] },
  ): Promise<{ webhook: Webhook; secret: string }> {
    const url = checkWebhookUrl(input.url, this.#allowPrivate);
    await assertPublicHost(url, this.#allowPrivate);
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    const sealed = this.#encryptor.encrypt(secret, SECRET_AAD);
    const row = await insertEndpoint(db, {
      url: url.toString(),
      description: input.description ?? '',
      eventTypes: [...new Set(input.eventTypes)],
      secretKeyId: sealed.keyId,
      secretCiphertext: sealed.ciphertext,
      createdBy,
    });
    return { webhook: toEndpoint(row), secret };
  }

  async list(db: Db): Promise<Webhook[]> {
    return (await listEndpoints(db)).map(toEndpoint);
  }

  async disable(db: Db, id: string): Promise<Webhook> {
    const row = await disableEndpoint(db, id);
    if (!row) throw new ApiError('NOT_FOUND', 'no such webhook');
    return toEndpoint(row);
  }

  /** Deletes an endpoint with its delivery log: pending deliveries are never sent. */
  async delete(db: Db, id: string): Promise<void> {
    if (!(await deleteEndpoint(db, id))) throw new ApiError('NOT_FOUND', 'no such webhook');
  }

  /** The endpoint and its signing secret (the sender only). */
  async endpointWithSecret(db: Db, id: string): Promise<{ endpoint: EndpointRow; secret: string } | undefined> {
    const endpoint = await findEndpoint(db, id);
    if (!endpoint) return undefined;
    const secret = this.#encryptor.decrypt({ keyId: endpoint.secret_key_id, ciphertext: endpoint.secret_ciphertext }, SECRET_AAD).toString('utf8');
    return { endpoint, secret };
  }

  /** In the transaction of the change: one delivery row per event and subscribed endpoint. */
  async enqueue(trx: Db, events: readonly PendingWebhook[]): Promise<number> {
    if (events.length === 0) return 0;
    const endpoints = await endpointsFor(
      trx,
      events.map((e) => e.type),
    );
    const createdAt = new Date().toISOString();
    const rows = events.flatMap((event) => {
      const targets = endpoints.filter((e) => e.event_types.includes(event.type));
      if (targets.length === 0) return [];
      const id = randomUUID();
      const payload = JSON.stringify({ id, type: event.type, createdAt, data: event.data });
      return targets.map((e) => ({ endpointId: e.id, eventId: id, eventType: event.type, payload }));
    });
    return (await insertDeliveries(trx, rows)).length;
  }

  /** A `webhook.ping` for one endpoint, whatever it subscribes to. */
  async ping(db: Db, endpointId: string): Promise<WebhookDelivery> {
    const endpoint = await findEndpoint(db, endpointId);
    if (!endpoint) throw new ApiError('NOT_FOUND', 'no such webhook');
    if (endpoint.disabled_at) throw new ApiError('CONFLICT', 'the webhook is disabled');
    const id = randomUUID();
    const payload = JSON.stringify({ id, type: 'webhook.ping', createdAt: new Date().toISOString(), data: { endpointId } });
    const [row] = await insertDeliveries(db, [{ endpointId, eventId: id, eventType: 'webhook.ping', payload }]);
    return toDelivery(row!);
  }

  async deliveries(db: Db, endpointId: string, options: { status?: WebhookDeliveryStatus | undefined; limit: number }): Promise<WebhookDelivery[]> {
    if (!(await findEndpoint(db, endpointId))) throw new ApiError('NOT_FOUND', 'no such webhook');
    return (await listDeliveries(db, endpointId, options)).map(toDelivery);
  }

  async delivery(db: Db, endpointId: string, deliveryId: string): Promise<WebhookDelivery> {
    const row = await findDelivery(db, deliveryId);
    if (!row || row.endpoint_id !== endpointId) throw new ApiError('NOT_FOUND', 'no such delivery');
    return toDelivery(row);
  }

  async redeliver(db: Db, endpointId: string, deliveryId: string): Promise<WebhookDelivery> {
    const row = await findDelivery(db, deliveryId);
    if (!row || row.endpoint_id !== endpointId) throw new ApiError('NOT_FOUND', 'no such delivery');
    const endpoint = await findEndpoint(db, endpointId);
    if (endpoint?.disabled_at) throw new ApiError('CONFLICT', 'the webhook is disabled');
    if (row.status === 'pending') throw new ApiError('CONFLICT', 'the delivery is still pending');
    return toDelivery((await resetDelivery(db, deliveryId))!);
  }
}
