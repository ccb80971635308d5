import type { Kysely } from 'kysely';
import type { AppEvent, AppEventMap, AppEventType, DeliveredAppEvent } from '@telemed/sdk';
import type { Encryptor } from '../crypto/encryption.js';
import type { Database, Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { BusMessage, EventBus } from './event-bus.js';
import { findUserEventsAfter, insertUserEvents, latestUserEventId, type StoredUserEvent, type UserEventRow } from './event.repository.js';

/** An event for some users, not yet stored. */
export interface PendingEvent<K extends AppEventType = AppEventType> {
  userIds: readonly string[];
  type: K;
  payload: AppEventMap[K];
}

/** One recipient's copy of an event, encrypted for the user_events row. */
export interface SealedEvent {
  userId: string;
  type: AppEventType;
  payload: AppEventMap[AppEventType];
  keyId: string;
  ciphertext: string;
}

/**
 * Realtime events: stored per recipient (encrypted: payloads can carry message bodies) so a
 * reconnecting client catches up by cursor, then published on the bus for live delivery.
 */
export class EventService {
  readonly #db: Kysely<Database>;
  readonly #encryptor: Encryptor;
  readonly #bus: EventBus;
  readonly #logger: Logger;

  constructor(db: Kysely<Database>, encryptor: Encryptor, bus: EventBus, logger: Logger) {
    this.#db = db;
    this.#encryptor = encryptor;
    this.#bus = bus;
    this.#logger = logger;
  }

  get bus(): EventBus {
    return this.#bus;
  }

  /** Stores and publishes one event to each user. Never throws: a failed push must not fail the request. */
  async emit<K extends AppEventType>(userIds: Iterable<string>, type: K, payload: AppEventMap[K]): Promise<void> {
    try {
      await this.publish(await this.store(this.#db, [{ userIds: [...userIds], type, payload }]));
    } catch (err) {
      this.#logger.error({ err, type }, 'event delivery failed');
    }
  }

  /**
   * Stores events (one row per recipient, one insert for all) with `db`, which may be the
   * caller's transaction; returns what to publish once that has committed.
   */
  async store(db: Db, events: readonly PendingEvent[]): Promise<BusMessage[]> {
    const sealed = this.seal(events);
    return this.delivered(sealed, await insertUserEvents(db, sealed));
  }

  /** The user_events rows of some events (one per recipient, encrypted), for a statement that inserts them itself. */
  seal(events: readonly PendingEvent[]): SealedEvent[] {
    return events.flatMap(({ userIds, type, payload }) =>
      [...new Set(userIds)].map((userId) => ({ userId, type, payload, ...this.#encryptor.encryptJson(payload, `event:${userId}`) })),
    );
  }

  /** What to publish once the rows storing `sealed` (in the same order) have committed. */
  delivered(sealed: readonly SealedEvent[], rows: ReadonlyArray<Pick<StoredUserEvent, 'id' | 'user_id' | 'type' | 'created_at' | 'prev'>>): BusMessage[] {
    return rows.map((row, i) => ({
      userId: row.user_id,
      prev: row.prev,
      event: { id: row.id, type: row.type, payload: sealed[i]!.payload, at: row.created_at.toISOString() } as DeliveredAppEvent,
    }));
  }

  /** Live delivery of stored events. Never throws: a client that misses one catches up by cursor. */
  async publish(messages: BusMessage[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.#bus.publish(messages);
    } catch (err) {
      this.#logger.error({ err }, 'event publish failed');
    }
  }

  async eventsAfter(userId: string, afterId: number, limit: number): Promise<DeliveredAppEvent[]> {
    const rows = await findUserEventsAfter(this.#db, userId, afterId, limit);
    return rows.map((row) => this.#toEvent(row));
  }

  /** The id of the user's last stored event (0 if none), or of the last one stored before `createdBefore`. */
  async latestId(userId: string, createdBefore?: Date): Promise<number> {
    return latestUserEventId(this.#db, userId, createdBefore);
  }

  #toEvent(row: UserEventRow): DeliveredAppEvent {
    const payload = this.#encryptor.decryptJson<AppEvent['payload']>({ keyId: row.key_id, ciphertext: row.payload_ciphertext }, `event:${row.user_id}`);
    return { id: row.id, type: row.type, payload, at: row.created_at.toISOString() } as DeliveredAppEvent;
  }
}
