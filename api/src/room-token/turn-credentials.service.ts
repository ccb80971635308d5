import { createHmac } from 'node:crypto';
import type { IceServer } from '@telemed/sdk';

export interface TurnSettings {
  turnUrls: readonly string[];
  turnSecret?: string | undefined;
  /** How long credentials live, seconds; capped at the room token's lifetime. */
  turnTtlSeconds?: number | undefined;
}

/**
 * Time-limited TURN credentials (the TURN REST API that coturn implements with
 * `use-auth-secret`): username `<expiry unix seconds>:<user>`, password
 * base64(HMAC-SHA1(secret, username)). coturn refuses them after the expiry. None without TURN_URLS.
 */
export function turnCredentials(settings: TurnSettings, userId: string, maxTtlSeconds: number, now = Date.now()): IceServer[] {
  if (settings.turnUrls.length === 0 || !settings.turnSecret) return [];
  const ttl = Math.min(settings.turnTtlSeconds ?? maxTtlSeconds, maxTtlSeconds);
  const username = `${Math.floor(now / 1000) + ttl}:${userId}`;
  const credential = createHmac('sha1', settings.turnSecret).update(username).digest('base64');
  return [{ urls: [...settings.turnUrls], username, credential }];
}
