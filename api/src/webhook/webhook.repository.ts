import { sql, type Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { WebhookDeliveryStatus, WebhookDeliveryTable, WebhookEndpointTable } from './webhook.table.js';

export type EndpointRow = Selectable<WebhookEndpointTable>;
export type DeliveryRow = Selectable<WebhookDeliveryTable>;

export async function insertEndpoint(
  db: Db,
  values: { url: string; description: string; eventTypes: readonly string[]; secretKeyId: string; secretCiphertext: string; createdBy: string },
): Promise<EndpointRow> {
  return db
    .insertInto('webhook_endpoints')
    .values({
      url: values.url,
      description: values.description,
      event_types: [...values.eventTypes],
      secret_key_id: values.secretKeyId,
      secret_ciphertext: values.secretCiphertext,
      created_by: values.createdBy,
      disabled_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findEndpoint(db: Db, id: string): Promise<EndpointRow | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listEndpoints(db: Db): Promise<EndpointRow[]> {
  return db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at', 'desc').orderBy('id').execute();
}

/** Enabled endpoints subscribed to any of `types`. */
export async function endpointsFor(db: Db, types: readonly string[]): Promise<Array<Pick<EndpointRow, 'id' | 'event_types'>>> {
  return db
    .selectFrom('webhook_endpoints')
    .select(['id', 'event_types'])
    .where('disabled_at', 'is', null)
    .where(sql<boolean>`event_types && ${sql.val([...types])}::text[]`)
    .execute();
}

export async function disableEndpoint(db: Db, id: string): Promise<EndpointRow | undefined> {
  return (
    (await db
      .updateTable('webhook_endpoints')
      .set({ disabled_at: new Date() })
      .where('id', '=', id)
      .where('disabled_at', 'is', null)
      .returningAll()
      .executeTakeFirst()) ?? findEndpoint(db, id)
  );
}

/** Deletes an endpoint and (cascade) its delivery log; undefined when there was none. */
export async function deleteEndpoint(db: Db, id: string): Promise<{ id: string } | undefined> {
  return db.deleteFrom('webhook_endpoints').where('id', '=', id).returning('id').executeTakeFirst();
}

export async function insertDeliveries(
  db: Db,
  rows: ReadonlyArray<{ endpointId: string; eventId: string; eventType: string; payload: string }>,
): Promise<DeliveryRow[]> {
  if (rows.length === 0) return [];
  return db
    .insertInto('webhook_deliveries')
    .values(
      rows.map((r) => ({
        endpoint_id: r.endpointId,
        event_id: r.eventId,
        event_type: r.eventType,
        payload: r.payload,
        locked_until: null,
        last_error: null,
        response_status: null,
        delivered_at: null,
      })),
    )
    .returningAll()
    .execute();
}

/**
 * Claims due deliveries for one sender: each row goes to one instance at a time (SKIP LOCKED),
 * and the lease lets another instance retry a row whose sender died. Oldest events first.
 */
export async function claimDue(db: Db, options: { limit: number; leaseSeconds: number; now: Date }): Promise<DeliveryRow[]> {
  const rows = await db
    .updateTable('webhook_deliveries')
    .set({ locked_until: new Date(options.now.getTime() + options.leaseSeconds * 1000), attempts: sql`attempts + 1` })
    .where('id', 'in', (qb) =>
      qb
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', options.now)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', options.now)]))
        .orderBy('seq')
        .limit(options.limit)
        .forUpdate()
        .skipLocked(),
    )
    .returningAll()
    .execute();
  return rows.sort((a, b) => Number(a.seq) - Number(b.seq));
}

export async function recordAttempt(
  db: Db,
  id: string,
  values: { status: WebhookDeliveryStatus; responseStatus: number | null; lastError: string | null; nextAttemptAt?: Date },
): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({
      status: values.status,
      response_status: values.responseStatus,
      last_error: values.lastError,
      locked_until: null,
      ...(values.status === 'delivered' ? { delivered_at: new Date() } : {}),
      ...(values.nextAttemptAt ? { next_attempt_at: values.nextAttemptAt } : {}),
    })
    .where('id', '=', id)
    .execute();
}

export async function listDeliveries(
  db: Db,
  endpointId: string,
  options: { status?: WebhookDeliveryStatus | undefined; limit: number },
): Promise<DeliveryRow[]> {
  let query = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
  if (options.status) query = query.where('status', '=', options.status);
  return query.orderBy('seq', 'desc').limit(options.limit).execute();
}

export async function findDelivery(db: Db, id: string): Promise<DeliveryRow | undefined> {
  return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Sends a delivery again from the start (a new round of attempts), now. */
export async function resetDelivery(db: Db, id: string): Promise<DeliveryRow | undefined> {
  return db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: new Date(), locked_until: null, last_error: null, response_status: null, delivered_at: null })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}
