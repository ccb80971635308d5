import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attachment, Conversation, Page, Session } from '@telemed/sdk';
import { App } from '../app.js';
import { ConfigError, configFromEnv, parseConfig } from '../config.js';
import { startS3, type TestS3 } from '../testing/s3-server.js';
import { TEST_SECRETS, client, createPostgresDatabase, login, pgliteTemplate, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';

const MARKER = 'PHI-patient-record-7731';
const PDF = Buffer.from(`%PDF-1.7\n1 0 obj << /Title (${MARKER}) >> endobj\n%%EOF\n`);
const CREDENTIALS = { s3AccessKeyId: 'S3RVER', s3SecretAccessKey: 'S3RVER' };

describe('attachments in an S3-compatible bucket (s3rver)', () => {
  let s3: TestS3;
  let t: TestApp;
  let localDir: string;
  const s = {} as Record<DemoUser, Session>;
  let conversation: Conversation;

  const upload = (who: DemoUser, data: Buffer) => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(data)]), 'lab-results.pdf');
    return fetch(`${t.url}/api/conversations/${conversation.id}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s[who].accessToken}` },
      body: form,
    });
  };
  const download = (who: DemoUser, id: string) => fetch(`${t.url}/api/attachments/${id}`, { headers: { authorization: `Bearer ${s[who].accessToken}` } });

  beforeAll(async () => {
    s3 = await startS3();
    localDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-att-local-'));
    t = await startTestApp('pglite', { attachmentsDir: localDir, s3Bucket: s3.bucket, s3Endpoint: s3.endpoint, s3ForcePathStyle: true, ...CREDENTIALS });
    for (const who of ['alice', 'bob', 'drgrey', 'drhouse', 'admin'] as const) s[who] = await login(t.url, who);
    conversation = (await client(t.url, s.alice.accessToken).get<Page<Conversation>>('/api/conversations')).body.items.find(
      (c) => c.members.length === 2 && c.members.some((m) => m.userId === s.drgrey.user.id),
    )!;
    expect(conversation.members.map((m) => m.userId)).not.toContain(s.drhouse.user.id);
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
    fs.rmSync(localDir, { recursive: true, force: true });
  });

  it('stores the upload in the bucket encrypted, records its sha256, and serves it to members only', async () => {
    const res = await upload('alice', PDF);
    expect(res.status).toBe(201);
    const attachment = (await res.json()) as Attachment;
    expect(attachment).toMatchObject({ contentType: 'application/pdf', sizeBytes: PDF.length, sha256: createHash('sha256').update(PDF).digest('hex') });

    // What the bucket holds: one object, ciphertext only (read back through the S3 API and on s3rver's disk).
    const bucket = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const listed = await bucket.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([expect.stringMatching(/^attachments\/[0-9a-f]{2}\/[0-9a-f-]{36}$/)]);
    const object = Buffer.from(
      await (await bucket.send(new GetObjectCommand({ Bucket: s3.bucket, Key: listed.Contents![0]!.Key! }))).Body!.transformToByteArray(),
    );
    bucket.destroy();
    expect(object.length).toBe(PDF.length + 28); // iv + tag + ciphertext
    expect(object.includes(Buffer.from(MARKER))).toBe(false);
    expect(object.includes(Buffer.from('%PDF'))).toBe(false);
    const files = fs.readdirSync(s3.dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    for (const file of files) expect(fs.readFileSync(path.join(file.parentPath, file.name)).includes(Buffer.from(MARKER))).toBe(false);
    expect(fs.readdirSync(localDir)).toEqual([]); // nothing went to local disk
    const row = await t.app.db.selectFrom('attachments').select(['key_id', 'sha256']).where('id', '=', attachment.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ key_id: 'k1', sha256: attachment.sha256 });

    const got = await download('drgrey', attachment.id);
    expect(got.status).toBe(200);
    expect(got.headers.get('x-content-sha256')).toBe(attachment.sha256);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(PDF);
    expect((await download('bob', attachment.id)).status).toBe(404); // another patient
    expect((await download('drhouse', attachment.id)).status).toBe(404); // a doctor outside the conversation
    expect((await download('admin', attachment.id)).status).toBe(403); // admins see no messages or files
    expect((await fetch(`${t.url}/api/attachments/${attachment.id}`)).status).toBe(401);
  });

  it('refuses to start when the bucket is missing, naming the settings to check', async () => {
    const app = new App({
      ...TEST_SECRETS,
      port: 0,
      mode: 'test',
      logLevel: 'silent',
      databaseDir: 'memory://',
      pgliteTemplate: await pgliteTemplate(),
      s3Bucket: 'no-such-bucket',
      s3Endpoint: s3.endpoint,
      s3ForcePathStyle: true,
      ...CREDENTIALS,
    });
    await expect(app.start()).rejects.toThrow(/S3 bucket "no-such-bucket" is not reachable \(HTTP 404.*check S3_ENDPOINT, S3_BUCKET/);
  });

  it('validates the S3 settings with clear errors', () => {
    const base = { ...TEST_SECRETS };
    expect(() => parseConfig({ ...base, s3Endpoint: 'http://127.0.0.1:9000' })).toThrow(/S3_BUCKET is required when S3_ENDPOINT is set/);
    expect(() => parseConfig({ ...base, s3Bucket: 'files', s3AccessKeyId: 'id-only' })).toThrow(/S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together/);
    expect(() => parseConfig({ ...base, s3Bucket: 'Bad_Bucket' })).toThrow(ConfigError);
    expect(() => parseConfig({ ...base, s3Bucket: 'files', s3Endpoint: 'ftp://x' })).toThrow(/S3_ENDPOINT must be an http\(s\) URL/);
    // Every problem at once, each naming its variable.
    const all = (() => {
      try {
        configFromEnv({ S3_ENDPOINT: 'http://127.0.0.1:9000' });
      } catch (error) {
        return error as ConfigError;
      }
    })();
    expect(all?.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('ROOM_TOKEN_SECRET is required'),
        expect.stringContaining('ENCRYPTION_KEY is required'),
        expect.stringContaining('ACCESS_TOKEN_SECRET is required'),
        expect.stringContaining('MEDIA_WEBHOOK_SECRET is required'),
        expect.stringContaining('S3_BUCKET is required when S3_ENDPOINT is set'),
      ]),
    );
    expect(parseConfig({ ...base, s3Bucket: 'files' })).toMatchObject({ s3Bucket: 'files', s3Region: 'us-east-1', s3ForcePathStyle: false });
  });
});

describe('switching the attachment store (PostgreSQL, local disk and s3rver)', () => {
  let s3: TestS3;
  let localDir: string;
  let databaseUrl: string;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    s3 = await startS3();
    localDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-att-switch-'));
    databaseUrl = await createPostgresDatabase();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await s3?.close();
    fs.rmSync(localDir, { recursive: true, force: true });
  });

  /** One API instance on the shared database and attachments dir, with or without S3. */
  async function start(withS3: boolean) {
    const t = await startTestApp('postgres', {
      databaseUrl,
      attachmentsDir: localDir,
      ...(withS3 ? { s3Bucket: s3.bucket, s3Endpoint: s3.endpoint, s3ForcePathStyle: true, ...CREDENTIALS } : {}),
    });
    apps.push(t);
    const alice = await login(t.url, 'alice');
    const conversation = (await client(t.url, alice.accessToken).get<Page<Conversation>>('/api/conversations')).body.items[0]!;
    const upload = async (data: Buffer): Promise<Attachment> => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(data)]), 'scan.pdf');
      const res = await fetch(`${t.url}/api/conversations/${conversation.id}/attachments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.accessToken}` },
        body: form,
      });
      expect(res.status).toBe(201);
      return (await res.json()) as Attachment;
    };
    const download = (id: string) => fetch(`${t.url}/api/attachments/${id}`, { headers: { authorization: `Bearer ${alice.accessToken}` } });
    const storeOf = async (id: string) => (await t.app.db.selectFrom('attachments').select('store').where('id', '=', id).executeTakeFirstOrThrow()).store;
    return { t, upload, download, storeOf };
  }

  it('files stay readable from the store they were written to; a store no longer configured gets a clear 503', async () => {
    const onDisk = Buffer.from('%PDF-1.7\n% written to local disk\n%%EOF\n');
    const inBucket = Buffer.from('%PDF-1.7\n% written to S3\n%%EOF\n');

    const first = await start(false);
    const a = await first.upload(onDisk);
    expect(await first.storeOf(a.id)).toBe('disk');
    await first.t.close();

    const second = await start(true); // the clinic moves to S3
    const fromDisk = await second.download(a.id);
    expect(fromDisk.status).toBe(200);
    expect(Buffer.from(await fromDisk.arrayBuffer())).toEqual(onDisk);
    const b = await second.upload(inBucket);
    expect(await second.storeOf(b.id)).toBe('s3');
    await second.t.close();

    const third = await start(false); // S3 settings removed again
    expect(Buffer.from(await (await third.download(a.id)).arrayBuffer())).toEqual(onDisk);
    const unreadable = await third.download(b.id);
    expect(unreadable.status).toBe(503);
    expect(await unreadable.json()).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('S3 store') } });
    // A row from before stores were recorded is read from the configured store.
    await third.t.app.db.updateTable('attachments').set({ store: null }).where('id', '=', a.id).execute();
    expect(Buffer.from(await (await third.download(a.id)).arrayBuffer())).toEqual(onDisk);
  });
});
