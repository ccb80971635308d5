import fs from 'node:fs/promises';
import path from 'node:path';
import type { Encryptor } from '../crypto/encryption.js';

export interface StoredObject {
  key: string;
  keyId: string;
}

/** Which store holds a file; recorded per attachment row. */
export type StoreName = 'disk' | 's3';

/** Where attachment files live. Both stores only ever see ciphertext. */
export interface AttachmentStorage {
  readonly name: StoreName;
  put(key: string, data: Buffer): Promise<StoredObject>;
  get(object: StoredObject): Promise<Buffer>;
  /** Removes the file (retention); a file already gone is not an error. */
  delete(object: StoredObject): Promise<void>;
  close?(): void;
}

/** Storage keys are UUIDs we generate; anything else never reaches a path or an object key. */
export function checkStorageKey(key: string): string {
  if (!/^[0-9a-f-]{36}$/.test(key)) throw new Error('bad storage key');
  return key;
}

/** AES-256-GCM with the storage key bound as additional data: a file moved to another key fails to open. */
export function sealAttachment(encryptor: Encryptor, key: string, data: Buffer): { keyId: string; sealed: Buffer } {
  const encrypted = encryptor.encrypt(data, `attachment:${key}`);
  return { keyId: encrypted.keyId, sealed: Buffer.from(encrypted.ciphertext, 'base64url') };
}

export function openAttachment(encryptor: Encryptor, object: StoredObject, sealed: Buffer): Buffer {
  return encryptor.decrypt({ keyId: object.keyId, ciphertext: sealed.toString('base64url') }, `attachment:${object.key}`);
}

/** Local disk (the default), each file encrypted. */
export class LocalDiskStorage implements AttachmentStorage {
  readonly name = 'disk';
  readonly #dir: string;
  readonly #encryptor: Encryptor;

  constructor(dir: string, encryptor: Encryptor) {
    this.#dir = dir;
    this.#encryptor = encryptor;
  }

  #path(key: string): string {
    return path.join(this.#dir, checkStorageKey(key).slice(0, 2), key);
  }

  async put(key: string, data: Buffer): Promise<StoredObject> {
    const file = this.#path(key);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const { keyId, sealed } = sealAttachment(this.#encryptor, key, data);
    await fs.writeFile(file, sealed, { mode: 0o600 });
    return { key, keyId };
  }

  async get(object: StoredObject): Promise<Buffer> {
    const raw = await fs.readFile(this.#path(object.key));
    return openAttachment(this.#encryptor, object, raw);
  }

  async delete(object: StoredObject): Promise<void> {
    await fs.rm(this.#path(object.key), { force: true });
  }
}
