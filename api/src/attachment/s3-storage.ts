import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { ApiConfig } from '../config.js';
import type { Encryptor } from '../crypto/encryption.js';
import { checkStorageKey, openAttachment, sealAttachment, type AttachmentStorage, type StoredObject } from './attachment.storage.js';

export type S3Settings = Pick<ApiConfig, 's3Endpoint' | 's3Region' | 's3AccessKeyId' | 's3SecretAccessKey' | 's3ForcePathStyle'> & { s3Bucket: string };

/**
 * An S3-compatible bucket (AWS S3, MinIO, Ceph, ...). Files are encrypted here, before they leave
 * the API, exactly as on local disk: the bucket (and whoever runs it) only ever holds ciphertext.
 */
export class S3Storage implements AttachmentStorage {
  readonly name = 's3';
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #encryptor: Encryptor;

  constructor(settings: S3Settings, encryptor: Encryptor) {
    this.#bucket = settings.s3Bucket;
    this.#encryptor = encryptor;
    this.#client = new S3Client({
      region: settings.s3Region,
      forcePathStyle: settings.s3ForcePathStyle,
      maxAttempts: 3,
      ...(settings.s3Endpoint ? { endpoint: settings.s3Endpoint } : {}),
      ...(settings.s3AccessKeyId && settings.s3SecretAccessKey
        ? { credentials: { accessKeyId: settings.s3AccessKeyId, secretAccessKey: settings.s3SecretAccessKey } }
        : {}),
    });
  }

  /** Fails start-up with a clear message when the bucket is missing or the credentials are refused. */
  async check(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
    } catch (error) {
      const status = error instanceof S3ServiceException ? ` (HTTP ${error.$metadata.httpStatusCode ?? '?'} ${error.name})` : ` (${(error as Error).message})`;
      throw new Error(`S3 bucket "${this.#bucket}" is not reachable${status}: check S3_ENDPOINT, S3_BUCKET, S3_REGION and the credentials`);
    }
  }

  #objectKey(key: string): string {
    return `attachments/${checkStorageKey(key).slice(0, 2)}/${key}`;
  }

  async put(key: string, data: Buffer): Promise<StoredObject> {
    const { keyId, sealed } = sealAttachment(this.#encryptor, key, data);
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: this.#objectKey(key),
        Body: sealed,
        ContentType: 'application/octet-stream',
        Metadata: { 'telemed-key-id': keyId },
      }),
    );
    return { key, keyId };
  }

  async get(object: StoredObject): Promise<Buffer> {
    // A row whose object is gone is data loss, not a user error: it stays a (logged) 500.
    const answer = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(object.key) }));
    if (!answer.Body) throw new Error(`S3 object of attachment ${object.key} has no body`);
    return openAttachment(this.#encryptor, object, Buffer.from(await answer.Body.transformToByteArray()));
  }

  async delete(object: StoredObject): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(object.key) }));
  }

  close(): void {
    this.#client.destroy();
  }
}
