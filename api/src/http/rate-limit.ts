import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RedisClient } from '../redis.js';
import { ApiError } from './errors.js';

export interface RateLimiterOptions {
  /** Names the counters (`login`, `message`): each limiter has its own. */
  name: string;
  limit: number;
  windowSeconds: number;
  /** Shared counters: every API instance using this Redis enforces one combined budget. */
  redis?: RedisClient;
  keyPrefix?: string;
}

/**
 * Fixed-window limits (rate-limiter-flexible): in Redis when REDIS_URL is set, so the budget is
 * shared across API instances, in memory otherwise. If Redis stops answering, a per-instance
 * memory limiter takes over (insurance) rather than letting every request through or failing it.
 */
export class RateLimiter {
  readonly #limiter: RateLimiterAbstract;

  constructor(options: RateLimiterOptions) {
    const base = { points: options.limit, duration: options.windowSeconds, keyPrefix: `${options.keyPrefix ?? 'telemed'}:rl:${options.name}` };
    this.#limiter = options.redis
      ? new RateLimiterRedis({ ...base, storeClient: options.redis, useRedisPackage: true, insuranceLimiter: new RateLimiterMemory(base) })
      : new RateLimiterMemory(base);
  }

  /** Counts one hit for `key`; throws 429 with the seconds to wait once the window is full. */
  async hit(key: string): Promise<void> {
    try {
      await this.#limiter.consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new ApiError('RATE_LIMITED', `too many requests; retry in ${retryAfter} s`, { retryAfterSeconds: retryAfter });
    }
  }
}
