import fs from 'node:fs/promises';
import path from 'node:path';
import type { Encryptor } from '../crypto/encryption.js';

export interface StoredObject {
  key: string;
  keyId: string;
}

export interface AttachmentStorage {
  put(key: string, data: Buffer): Promise<StoredObject>;
  get(object: StoredObject): Promise<Buffer>;
}

/** Local disk, each file encrypted with AES-256-GCM (the storage key is bound as additional data). */
export class LocalDiskStorage implements AttachmentStorage {
  readonly #dir: string;
  readonly #encryptor: Encryptor;

  constructor(dir: string, encryptor: Encryptor) {
    this.#dir = dir;
    this.#encryptor = encryptor;
  }

  #path(key: string): string {
    if (!/^[0-9a-f-]{36}$/.test(key)) throw new Error('bad storage key');
    return path.join(this.#dir, key.slice(0, 2), key);
  }

  async put(key: string, data: Buffer): Promise<StoredObject> {
    const file = this.#path(key);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const encrypted = this.#encryptor.encrypt(data, `attachment:${key}`);
    await fs.writeFile(file, Buffer.from(encrypted.ciphertext, 'base64url'), { mode: 0o600 });
    return { key, keyId: encrypted.keyId };
  }

  async get(object: StoredObject): Promise<Buffer> {
    const raw = await fs.readFile(this.#path(object.key));
    return this.#encryptor.decrypt({ keyId: object.keyId, ciphertext: raw.toString('base64url') }, `attachment:${object.key}`);
  }
}
