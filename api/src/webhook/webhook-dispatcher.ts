import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { WEBHOOK_SIGNATURE_HEADER, signWebhook } from '@telemed/server-sdk';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import { guardedLookup, isPublicAddress } from './webhook-target.js';
import { claimDue, recordAttempt, type DeliveryRow } from './webhook.repository.js';
import type { WebhookService } from './webhook.service.js';

export interface WebhookDispatcherOptions {
  db: Kysely<Database>;
  webhooks: WebhookService;
  logger: Logger;
  allowPrivateTargets: boolean;
  /** Attempts before a delivery is given up as failed. */
  maxAttempts: number;
  /** The first retry's delay; each next one doubles, up to `retryMaxSeconds`. */
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  timeoutSeconds: number;
  /** How often due deliveries are looked for (retries, and events another instance committed). */
  pollSeconds: number;
}

const BATCH = 20;
const ERROR_MAX = 500;

/** The delay before attempt `attempts + 1`: exponential, capped. */
export function retryDelaySeconds(attempts: number, baseSeconds: number, maxSeconds: number): number {
  return Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, attempts - 1));
}

/**
 * Sends the delivery rows: after each commit that queued some (nudge) and every `pollSeconds`.
 * Any number of API instances may run one; a row is claimed by one at a time.
 */
export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer = setInterval(() => this.nudge(), this.#options.pollSeconds * 1000);
    this.#timer.unref();
    this.nudge();
  }

  /** Look for due deliveries now (coalesced with a round in progress). */
  nudge(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#rounds().finally(() => {
      this.#running = undefined;
    });
  }

  /** Runs rounds until nothing is due (tests; the timer does the same). */
  async runNow(): Promise<void> {
    this.nudge();
    while (this.#running) await this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#running;
  }

  async #rounds(): Promise<void> {
    do {
      this.#again = false;
      try {
        let batch: DeliveryRow[];
        do {
          batch = await claimDue(this.#options.db, { limit: BATCH, leaseSeconds: this.#options.timeoutSeconds * 2 + 5, now: new Date() });
          for (const row of batch) {
            if (this.#closed) return;
            await this.#deliver(row);
          }
        } while (batch.length === BATCH && !this.#closed);
      } catch (err) {
        if (!this.#closed) this.#options.logger.warn({ err }, 'webhook round failed');
      }
    } while (this.#again && !this.#closed);
  }

  async #deliver(row: DeliveryRow): Promise<void> {
    const { db, webhooks, logger, maxAttempts, retryBaseSeconds, retryMaxSeconds } = this.#options;
    const log = { deliveryId: row.id, endpointId: row.endpoint_id, eventType: row.event_type, attempt: row.attempts };
    const target = await webhooks.endpointWithSecret(db, row.endpoint_id);
    if (!target || target.endpoint.disabled_at) {
      await recordAttempt(db, row.id, { status: 'failed', responseStatus: null, lastError: 'the webhook is disabled' });
      return;
    }
    const outcome = await this.#post(target.endpoint.url, row.payload, target.secret, row);
    if (outcome.ok) {
      await recordAttempt(db, row.id, { status: 'delivered', responseStatus: outcome.status, lastError: null });
      logger.info({ ...log, status: outcome.status }, 'webhook delivered');
      return;
    }
    const giveUp = row.attempts >= maxAttempts;
    const nextAttemptAt = giveUp ? undefined : new Date(Date.now() + retryDelaySeconds(row.attempts, retryBaseSeconds, retryMaxSeconds) * 1000);
    await recordAttempt(db, row.id, {
      status: giveUp ? 'failed' : 'pending',
      responseStatus: outcome.status,
      lastError: outcome.error.slice(0, ERROR_MAX),
      ...(nextAttemptAt ? { nextAttemptAt } : {}),
    });
    logger.warn({ ...log, status: outcome.status, error: outcome.error, gaveUp: giveUp }, 'webhook delivery failed');
  }

  /** One POST; the answer's body is read and dropped. No redirects are followed. */
  #post(
    url: string,
    payload: string,
    secret: string,
    row: DeliveryRow,
  ): Promise<{ ok: true; status: number } | { ok: false; status: number | null; error: string }> {
    const { allowPrivateTargets, timeoutSeconds } = this.#options;
    const target = new URL(url);
    const request = target.protocol === 'https:' ? https.request : http.request;
    // An address in the URL is connected to without a lookup: checked here instead.
    const literal = target.hostname.replace(/^\[|\]$/g, '');
    if (!allowPrivateTargets && isIP(literal) && !isPublicAddress(literal))
      return Promise.resolve({ ok: false, status: null, error: 'the URL is a private, loopback or reserved address' });
    return new Promise((resolve) => {
      const req = request(
        target,
        {
          method: 'POST',
          lookup: guardedLookup(allowPrivateTargets),
          timeout: timeoutSeconds * 1000,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Telemed-Webhooks/1',
            [WEBHOOK_SIGNATURE_HEADER]: signWebhook(payload, secret),
            'telemed-event-id': row.event_id,
            'telemed-event-type': row.event_type,
            'telemed-delivery-id': row.id,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            resolve(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status, error: `HTTP ${status}` });
          });
          res.on('error', (error) => resolve({ ok: false, status: res.statusCode ?? null, error: error.message }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutSeconds} s`)));
      req.on('error', (error) => resolve({ ok: false, status: null, error: error.message }));
      req.end(payload);
    });
  }
}
