import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface Encrypted {
  keyId: string;
  /** base64url(iv ‖ tag ‖ ciphertext) */
  ciphertext: string;
}

/**
 * AES-256-GCM at rest. ENCRYPTION_KEY is `keyId:base64key[,keyId:base64key...]` (or one bare
 * base64 key, id `k1`); the first key encrypts, every listed key decrypts, so keys can rotate.
 */
export class Encryptor {
  readonly #keys = new Map<string, Buffer>();
  readonly #activeKeyId: string;

  constructor(spec: string) {
    const parts = spec
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    for (const part of parts) {
      const [id, key] = part.includes(':') ? (part.split(':', 2) as [string, string]) : ['k1', part];
      const bytes = Buffer.from(key, 'base64');
      if (bytes.length !== 32) throw new Error(`ENCRYPTION_KEY ${id}: expected 32 bytes of base64, got ${bytes.length}`);
      this.#keys.set(id, bytes);
    }
    const first = parts[0];
    if (!first) throw new Error('ENCRYPTION_KEY is empty');
    this.#activeKeyId = first.includes(':') ? first.split(':', 1)[0]! : 'k1';
  }

  static generateKey(): string {
    return randomBytes(32).toString('base64');
  }

  encrypt(plain: Buffer | string, aad = ''): Encrypted {
    const key = this.#keys.get(this.#activeKeyId)!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    if (aad) cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return { keyId: this.#activeKeyId, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url') };
  }

  decrypt(data: Encrypted, aad = ''): Buffer {
    const key = this.#keys.get(data.keyId);
    if (!key) throw new Error(`unknown encryption key id ${data.keyId}`);
    const raw = Buffer.from(data.ciphertext, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    if (aad) decipher.setAAD(Buffer.from(aad));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
  }

  encryptJson(value: unknown, aad = ''): Encrypted {
    return this.encrypt(JSON.stringify(value), aad);
  }

  decryptJson<T>(data: Encrypted, aad = ''): T {
    return JSON.parse(this.decrypt(data, aad).toString('utf8')) as T;
  }
}
