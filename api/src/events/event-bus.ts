import { EventEmitter } from 'node:events';
import type { DeliveredAppEvent } from '@telemed/sdk';
import type { Logger } from '../logger.js';
import { connectRedis, type RedisClient } from '../redis.js';

/** One event for one user, as it travels between API instances. */
export interface BusMessage {
  userId: string;
  event: DeliveredAppEvent;
  /**
   * The id of this user's event before it (0 for the first): a socket whose cursor is behind it
   * missed one (published late by another instance) and catches up from the database first.
   * Absent from instances of older versions.
   */
  prev?: number;
}

/**
 * Instructions between API instances that are not user events: a session or every session of a
 * user was revoked (drop cached session state, close sockets). `resync` is never sent: the Redis
 * bus gives it to its own listeners after its subscription was down, when messages may be lost.
 */
export type ControlMessage = { kind: 'session-revoked'; sessionId: string; userId: string } | { kind: 'user-revoked'; userId: string } | { kind: 'resync' };

export interface EventBus {
  publish(messages: BusMessage[]): Promise<void>;
  subscribe(listener: (message: BusMessage) => void): void;
  /** Delivered to every instance, this one included, at most once (a lost one is not retried). */
  publishControl(message: ControlMessage): Promise<void>;
  subscribeControl(listener: (message: ControlMessage) => void): void;
  close(): Promise<void>;
}

/** One process, one bus: the default without REDIS_URL. */
export class InProcessBus implements EventBus {
  readonly #emitter = new EventEmitter();

  async publish(messages: BusMessage[]): Promise<void> {
    for (const message of messages) this.#emitter.emit('message', message);
  }

  subscribe(listener: (message: BusMessage) => void): void {
    this.#emitter.on('message', listener);
  }

  async publishControl(message: ControlMessage): Promise<void> {
    this.#emitter.emit('control', message);
  }

  subscribeControl(listener: (message: ControlMessage) => void): void {
    this.#emitter.on('control', listener);
  }

  async close(): Promise<void> {
    this.#emitter.removeAllListeners();
  }
}

const CHANNEL = 'telemed:events';
const CONTROL_CHANNEL = 'telemed:control';

/** Redis pub/sub: every API instance receives every event and delivers it to its own sockets. */
export class RedisBus implements EventBus {
  readonly #pub: RedisClient;
  readonly #sub: RedisClient;
  readonly #listeners: Array<(message: BusMessage) => void> = [];
  readonly #controlListeners: Array<(message: ControlMessage) => void> = [];
  readonly #logger: Logger;
  #closed = false;

  private constructor(pub: RedisClient, sub: RedisClient, logger: Logger) {
    this.#pub = pub;
    this.#sub = sub;
    this.#logger = logger;
  }

  static async connect(url: string, logger: Logger): Promise<RedisBus> {
    const [pub, sub] = await Promise.all([connectRedis(url, logger, { failFastWhenDown: true }), connectRedis(url, logger)]);
    const bus = new RedisBus(pub, sub, logger);
    await sub.subscribe(CHANNEL, (raw: string) => RedisBus.#deliver(raw, bus.#listeners));
    await sub.subscribe(CONTROL_CHANNEL, (raw: string) => RedisBus.#deliver(raw, bus.#controlListeners));
    // node-redis resubscribes after a reconnect; what was published meanwhile is gone.
    let connected = true;
    sub.on('end', () => (connected = false));
    sub.on('error', () => (connected = false));
    sub.on('ready', () => {
      if (connected) return;
      connected = true;
      for (const listener of bus.#controlListeners) listener({ kind: 'resync' });
    });
    return bus;
  }

  async publishControl(message: ControlMessage): Promise<void> {
    await this.#pub.publish(CONTROL_CHANNEL, JSON.stringify(message)).catch((err: Error) => this.#logger.warn({ err: err.message }, 'redis publish failed'));
  }

  subscribeControl(listener: (message: ControlMessage) => void): void {
    this.#controlListeners.push(listener);
  }

  static #deliver<T>(raw: string, listeners: ReadonlyArray<(message: T) => void>): void {
    let message: T;
    try {
      message = JSON.parse(raw) as T;
    } catch {
      return;
    }
    for (const listener of listeners) listener(message);
  }

  async publish(messages: BusMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const pipeline = this.#pub.multi();
    for (const message of messages) pipeline.publish(CHANNEL, JSON.stringify(message));
    // Events are stored before they are published: a lost publish is caught up by cursor.
    await pipeline.execAsPipeline().catch((err: Error) => this.#logger.warn({ err: err.message }, 'redis publish failed'));
  }

  subscribe(listener: (message: BusMessage) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.length = 0;
    this.#controlListeners.length = 0;
    await Promise.allSettled([this.#pub.close(), this.#sub.close()]);
  }
}
