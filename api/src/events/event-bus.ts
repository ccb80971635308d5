import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { DeliveredAppEvent } from '@telemed/sdk';
import type { Logger } from '../logger.js';

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
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #listeners: Array<(message: BusMessage) => void> = [];
  readonly #logger: Logger;
  #closed = false;

  private constructor(url: string, logger: Logger) {
    this.#logger = logger;
    this.#pub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    this.#sub = new Redis(url, { lazyConnect: true });
    for (const client of [this.#pub, this.#sub]) client.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis error'));
    this.#sub.on('message', (_channel: string, raw: string) => {
      let message: BusMessage;
      try {
        message = JSON.parse(raw) as BusMessage;
      } catch {
        return;
      }
      for (const listener of this.#listeners) listener(message);
    });
  }

  static async connect(url: string, logger: Logger): Promise<RedisBus> {
    const bus = new RedisBus(url, logger);
    await Promise.all([bus.#pub.connect(), bus.#sub.connect()]);
    await bus.#sub.subscribe(CHANNEL);
    return bus;
  }

  async publish(messages: BusMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const pipeline = this.#pub.pipeline();
    for (const message of messages) pipeline.publish(CHANNEL, JSON.stringify(message));
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed) this.#logger.warn({ err: failed[0]?.message }, 'redis publish failed');
  }

  subscribe(listener: (message: BusMessage) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.length = 0;
    await Promise.allSettled([this.#pub.quit(), this.#sub.quit()]);
  }
}
