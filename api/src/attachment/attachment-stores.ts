import { ApiError } from '../http/errors.js';
import type { AttachmentStorage, StoreName, StoredObject } from './attachment.storage.js';

/**
 * New files go to the configured store; each file is read back from the store it was written to
 * (recorded on its row). So a clinic that moves from local disk to S3 keeps its earlier files
 * readable without copying them first: local disk stays available for reading.
 */
export class AttachmentStores {
  readonly #current: AttachmentStorage;
  readonly #byName: ReadonlyMap<StoreName, AttachmentStorage>;

  constructor(current: AttachmentStorage, readable: readonly AttachmentStorage[] = []) {
    this.#current = current;
    this.#byName = new Map([...readable, current].map((store) => [store.name, store]));
  }

  get current(): StoreName {
    return this.#current.name;
  }

  async put(key: string, data: Buffer): Promise<StoredObject & { store: StoreName }> {
    return { ...(await this.#current.put(key, data)), store: this.#current.name };
  }

  /** `store` null: a row from before stores were recorded, read from the configured store. */
  async get(store: StoreName | null, object: StoredObject): Promise<Buffer> {
    if (store === null) return this.#current.get(object);
    const storage = this.#byName.get(store);
    if (!storage)
      throw new ApiError(
        'SERVICE_UNAVAILABLE',
        `this file is kept in the ${store === 's3' ? 'S3' : 'local disk'} store, which this server is not configured to read`,
      );
    return storage.get(object);
  }

  async delete(store: StoreName | null, object: StoredObject): Promise<void> {
    const storage = store === null ? this.#current : this.#byName.get(store);
    if (!storage)
      throw new ApiError(
        'SERVICE_UNAVAILABLE',
        `this file is kept in the ${store === 's3' ? 'S3' : 'local disk'} store, which this server is not configured to reach`,
      );
    await storage.delete(object);
  }

  close(): void {
    for (const store of new Set(this.#byName.values())) store.close?.();
  }
}
