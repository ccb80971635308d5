import { EventEmitter } from 'node:events';
import type { DeliveredAppEvent } from '@telemed/sdk';
import type { Logger } from '../logger.js';
import { connectRedis, type RedisClient } from '../redis.js';

/** One event for one user, as it travels between API instances. */
export interface BusMessage {
  userId: string;
  event: DeliveredAppEvent;
}

export interface EventBus {
  publish(messages: BusMessage[]): Promise<void>;
  subscribe(listener: (message: BusMessage) => void): void;
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

  async close(): Promise<void> {
    this.#emitter.removeAllListeners();
  }
}

const CHANNEL = 'telemed:events';

/** Redis pub/sub: every API instance receives every event and delivers it to its own sockets. */
export class RedisBus implements EventBus {
  readonly #pub: RedisClient;
  readonly #sub: RedisClient;
  readonly #listeners: Array<(message: BusMessage) => void> = [];
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
    await sub.subscribe(CHANNEL, (raw: string) => bus.#deliver(raw));
    return bus;
  }

  #deliver(raw: string): void {
    let message: BusMessage;
    try {
      message = JSON.parse(raw) as BusMessage;
    } catch {
      return;
    }
    for (const listener of this.#listeners) listener(message);
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
    await Promise.allSettled([this.#pub.close(), this.#sub.close()]);
  }
}
