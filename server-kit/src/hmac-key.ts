import { createSecretKey, type KeyObject } from 'node:crypto';

const keys = new Map<string, KeyObject>();

/**
 * The HMAC key for a shared secret, made once. jsonwebtoken 9 given a string first tries
 * `createPublicKey()`/`createPrivateKey()` on it (which throws: ~2.5 ms per verify under load)
 * before it makes this key itself. A few secrets exist per process (config); the bound is for tests.
 */
export function hmacKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= 32) keys.clear();
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return key;
}
