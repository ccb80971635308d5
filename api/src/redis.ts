import { createClient } from 'redis';
import type { Logger } from './logger.js';

function newClient(url: string, disableOfflineQueue: boolean) {
  return createClient({ url, disableOfflineQueue });
}

export type RedisClient = ReturnType<typeof newClient>;

export interface RedisConnectOptions {
  /**
   * Fail commands at once while the connection is down instead of queueing them until it is back:
   * a request must not hang on Redis (the rate limiter falls back to memory, events are in the
   * database for catch-up). Subscribers keep the default queue.
   */
  failFastWhenDown?: boolean;
}

/** A connected node-redis client. It reconnects by itself; its errors are logged, never thrown at the process. */
export async function connectRedis(url: string, logger: Logger, options: RedisConnectOptions = {}): Promise<RedisClient> {
  const client = newClient(url, options.failFastWhenDown ?? false);
  client.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis error'));
  await client.connect();
  return client;
}
