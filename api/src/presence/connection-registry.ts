import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis.js';

export interface ConnectionRegistryOptions {
  redis: RedisClient;
  keyPrefix: string;
  /** An instance that has not refreshed its heartbeat for this long is taken for dead. */
  ttlSeconds: number;
  logger: Logger;
  /** A dead instance's connections (user id → count) to take out of the shared counts. */
  onReaped(connections: Map<string, number>): Promise<void>;
  /** This instance was taken for dead (a long pause) but lives: put its connections back. */
  onRestored(connections: Map<string, number>): Promise<void>;
}

/**
 * Which API instance holds which users' /events connections, in Redis: a hash per instance
 * (user id → open sockets) and a sorted set of instances scored by their last heartbeat. Every
 * instance refreshes its heartbeat every ttl/3 and reaps instances whose heartbeat is older than
 * the ttl: the reaper that wins ZREM subtracts the dead instance's connections, so a crashed
 * instance stops keeping its users online after at most ~ttl.
 */
export class ConnectionRegistry {
  readonly instanceId = randomUUID();
  readonly #options: ConnectionRegistryOptions;
  readonly #local = new Map<string, number>();
  readonly #instances: string;
  readonly #connections: string;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;

  constructor(options: ConnectionRegistryOptions) {
    this.#options = options;
    this.#instances = `${options.keyPrefix}:presence:instances`;
    this.#connections = `${options.keyPrefix}:presence:connections:${this.instanceId}`;
  }

  get #ttlMs(): number {
    return this.#options.ttlSeconds * 1000;
  }

  async start(): Promise<void> {
    await this.#options.redis.zAdd(this.#instances, { score: Date.now(), value: this.instanceId });
    await this.#reap();
    this.#timer = setInterval(
      () => {
        this.#beating ??= this.#beat()
          .catch((err: unknown) => this.#options.logger.warn({ err }, 'presence heartbeat failed'))
          .finally(() => (this.#beating = undefined));
      },
      Math.max(50, this.#ttlMs / 3),
    );
    this.#timer.unref();
  }

  async opened(userId: string): Promise<void> {
    this.#local.set(userId, (this.#local.get(userId) ?? 0) + 1);
    await this.#options.redis.hIncrBy(this.#connections, userId, 1);
  }

  async closed(userId: string): Promise<void> {
    const left = (this.#local.get(userId) ?? 0) - 1;
    if (left > 0) this.#local.set(userId, left);
    else this.#local.delete(userId);
    const remaining = await this.#options.redis.hIncrBy(this.#connections, userId, -1);
    if (remaining <= 0) await this.#options.redis.hDel(this.#connections, userId);
  }

  async #beat(): Promise<void> {
    const { redis } = this.#options;
    // XX: only refresh; a missing member means another instance reaped us during a pause.
    const refreshed = await redis.zAdd(this.#instances, { score: Date.now(), value: this.instanceId }, { condition: 'XX', CH: true });
    if (refreshed === 0 && (await redis.zScore(this.#instances, this.instanceId)) === null) {
      this.#options.logger.warn({ instance: this.instanceId }, 'presence: this instance was reaped while alive; restoring its connections');
      await redis.zAdd(this.#instances, { score: Date.now(), value: this.instanceId });
      const restored = new Map(this.#local);
      if (restored.size > 0) await redis.hSet(this.#connections, Object.fromEntries(restored));
      await this.#options.onRestored(restored);
    }
    await this.#reap();
  }

  async #reap(): Promise<void> {
    const { redis } = this.#options;
    const dead = await redis.zRangeByScore(this.#instances, '-inf', Date.now() - this.#ttlMs);
    for (const instance of dead) {
      if (instance === this.instanceId) continue;
      if ((await redis.zRem(this.#instances, instance)) !== 1) continue; // another instance reaps it
      const key = `${this.#options.keyPrefix}:presence:connections:${instance}`;
      const raw = await redis.hGetAll(key);
      await redis.del(key);
      const connections = new Map(
        Object.entries(raw)
          .map(([userId, count]) => [userId, Number(count)] as const)
          .filter(([, count]) => count > 0),
      );
      this.#options.logger.info({ instance, users: connections.size }, 'presence: reaped the connections of a dead API instance');
      if (connections.size > 0) await this.#options.onReaped(connections);
    }
  }

  /** Clean shutdown: the caller has already counted every socket out. */
  async stop(): Promise<void> {
    this.abort();
    await this.#beating;
    await this.#options.redis.multi().zRem(this.#instances, this.instanceId).del(this.#connections).exec();
  }

  /** Stops the heartbeat and leaves everything in Redis as it is, as a crash would. */
  abort(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
