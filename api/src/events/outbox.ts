import type { AppEventMap, AppEventType } from '@telemed/sdk';
import type { WebhookEventData, WebhookEventType } from '@telemed/server-sdk';
import type { PendingWebhook } from '../webhook/webhook.service.js';
import type { Db } from '../db/database.js';
import type { BusMessage } from './event-bus.js';
import type { EventService, PendingEvent } from './event.service.js';

/**
 * Events collected inside a transaction: stored in it (so they commit with the change they
 * describe, in the same commit) and published only after it commits.
 */
/** Where webhook events go in the transaction (delivery rows), and who sends them after it. */
export interface WebhookSink {
  enqueue(trx: Db, events: readonly PendingWebhook[]): Promise<number>;
  nudge(): void;
}

export class Outbox {
  readonly #pending: PendingEvent[] = [];
  readonly #webhooks: PendingWebhook[] = [];
  readonly #webhookSink: WebhookSink | undefined;
  #webhooksQueued = 0;
  readonly #stored: BusMessage[] = [];
  readonly #afterCommit: Array<() => Promise<void>> = [];

  add<K extends AppEventType>(userIds: Iterable<string>, type: K, payload: AppEventMap[K]): void {
    this.#pending.push({ userIds: [...userIds], type, payload });
  }

  constructor(webhookSink?: WebhookSink) {
    this.#webhookSink = webhookSink;
  }

  /** An event for the outbound webhooks: its delivery rows commit with the change. */
  webhook<K extends WebhookEventType>(type: K, data: WebhookEventData[K]): void {
    this.#webhooks.push({ type, data } as PendingWebhook);
  }

  /** Work that must wait for the commit (presence changes, notifications). */
  afterCommit(task: () => Promise<void>): void {
    this.#afterCommit.push(task);
  }

  /** Writes the queued events with the transaction; call it last, just before the commit. */
  async store(trx: Db, events: EventService): Promise<void> {
    const hooks = this.#webhooks.splice(0);
    if (hooks.length > 0 && this.#webhookSink) this.#webhooksQueued += await this.#webhookSink.enqueue(trx, hooks);
    // Last: storing events takes their users' stream locks, held to the commit (see insertUserEvents).
    const pending = this.#pending.splice(0);
    if (pending.length > 0) this.#stored.push(...(await events.store(trx, pending)));
  }

  /** After the commit: live delivery of what was stored, then the after-commit work. */
  async flush(events: EventService): Promise<void> {
    await events.publish(this.#stored.splice(0));
    if (this.#webhooksQueued > 0) this.#webhookSink?.nudge();
    this.#webhooksQueued = 0;
    for (const task of this.#afterCommit.splice(0)) await task();
  }
}
