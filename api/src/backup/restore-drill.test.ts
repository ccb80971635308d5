// The restore drill: an installation used through the real API (users, encrypted messages,
// attachments, calls) is backed up, destroyed (database, attachment files, key ring) and restored
// into a new empty installation; every message decrypts, every attachment downloads with the same
// bytes, every login works. On PostgreSQL (pg_dump/pg_restore) and the embedded database.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Call, Conversation, Message, Page, Session } from '@telemed/sdk';
import { App } from '../app.js';
import { DEMO_PASSWORD, DEMO_USERS } from '../db/seed.js';
import { DATABASES, TEST_SECRETS, client, createPostgresDatabase, login, type DemoUser } from '../testing/test-app.js';
import { BackupError } from './backup-error.js';
import { backupInstallation, restoreInstallation, type Installation } from './backup.js';

const PASSPHRASE = 'correct horse battery staple 42';
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const freshKeyRing = (): string => `k2:${randomBytes(32).toString('base64')},k1:${randomBytes(32).toString('base64')}`;

async function startApp(installation: Installation, keyRing: string): Promise<{ app: App; url: string }> {
  const app = new App({
    port: 0,
    mode: 'test',
    logLevel: 'silent',
    mediaInternalUrl: 'http://127.0.0.1:9',
    seedDemo: true,
    ...TEST_SECRETS,
    encryptionKey: keyRing,
    databaseDir: installation.databaseDir,
    attachmentsDir: installation.attachmentsDir,
    ...(installation.databaseUrl ? { databaseUrl: installation.databaseUrl } : {}),
  });
  await app.start();
  return { app, url: `http://127.0.0.1:${app.port}` };
}

async function dropPostgresDatabase(url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await admin.connect();
  try {
    await admin.query(`drop database "${new URL(url).pathname.slice(1)}" with (force)`);
  } finally {
    await admin.end();
  }
}

/** Everything a user can read: each conversation's messages (decrypted by the API) and each attachment's hash. */
async function snapshot(
  url: string,
  session: Session,
): Promise<{ messages: Record<string, Array<Pick<Message, 'id' | 'body' | 'attachmentId'>>>; attachments: Record<string, string> }> {
  const api = client(url, session.accessToken);
  const conversations = await api.get<Page<Conversation>>('/api/conversations?limit=100');
  expect(conversations.status).toBe(200);
  const messages: Record<string, Array<Pick<Message, 'id' | 'body' | 'attachmentId'>>> = {};
  const attachments: Record<string, string> = {};
  for (const conversation of conversations.body.items) {
    const page = await api.get<Page<Message>>(`/api/conversations/${conversation.id}/messages?limit=200`);
    expect(page.status).toBe(200);
    messages[conversation.id] = page.body.items.map((m) => ({ id: m.id, body: m.body, attachmentId: m.attachmentId }));
    for (const message of page.body.items) {
      if (!message.attachmentId) continue;
      const res = await fetch(`${url}/api/attachments/${message.attachmentId}`, { headers: { authorization: `Bearer ${session.accessToken}` } });
      expect(res.status).toBe(200);
      attachments[message.attachmentId] = sha256(Buffer.from(await res.arrayBuffer()));
    }
  }
  return { messages, attachments };
}

describe.each(DATABASES)('restore drill on %s', (database) => {
  let root: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), `telemed-drill-${database}-`));
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  });

  const installation = async (name: string): Promise<Installation> => ({
    databaseDir: path.join(root, name, 'db'),
    attachmentsDir: path.join(root, name, 'attachments'),
    ...(database === 'postgres' ? { databaseUrl: await createPostgresDatabase() } : {}),
  });

  it('backs up, survives the loss of the installation, restores everything', async () => {
    // 1. An installation in use.
    const original = await installation('original');
    const keyRing = freshKeyRing();
    let running = await startApp(original, keyRing);
    cleanups.push(() => running.app.stop());
    const s = {} as Record<DemoUser, Session>;
    for (const who of ['alice', 'drgrey'] as const) s[who] = await login(running.url, who);
    const conversation = (await client(running.url, s.alice.accessToken).get<Page<Conversation>>('/api/conversations')).body.items.find(
      (c) => c.kind === 'direct' && c.members.some((m) => m.userId === s.drgrey.user.id),
    )!;
    const uploads: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const data = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(20_000 + i * 1000)]);
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(data)], { type: 'image/png' }), `scan-${i}.png`);
      const res = await fetch(`${running.url}/api/conversations/${conversation.id}/attachments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.alice.accessToken}` },
        body: form,
      });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      const sent = await client(running.url, s.alice.accessToken).post(`/api/conversations/${conversation.id}/messages`, {
        clientId: crypto.randomUUID(),
        body: `scan ${i}: ünïcødé ✓`,
        attachmentId: id,
      });
      expect(sent.status).toBe(201);
      uploads.push(data);
    }
    for (let i = 0; i < 5; i++) {
      const reply = await client(running.url, s.drgrey.accessToken).post(`/api/conversations/${conversation.id}/messages`, {
        clientId: crypto.randomUUID(),
        body: `reply ${i}: take 2 tablets`,
      });
      expect(reply.status).toBe(201);
    }
    const call = await client(running.url, s.drgrey.accessToken).post<Call>('/api/calls', {
      type: 'video',
      inviteeIds: [s.alice.user.id],
      conversationId: conversation.id,
    });
    expect(call.status).toBe(201);
    expect((await client(running.url, s.alice.accessToken).post(`/api/calls/${call.body.id}/decline`)).status).toBe(200);
    const before = { alice: await snapshot(running.url, s.alice), drgrey: await snapshot(running.url, s.drgrey) };
    expect(Object.keys(before.alice.attachments)).toHaveLength(3);
    expect(Object.values(before.alice.attachments).sort()).toEqual(uploads.map(sha256).sort());

    // 2. Backup (PostgreSQL: while the API runs; the embedded database: with the API stopped, it says so).
    const backupDir = path.join(root, 'backups', 'b1');
    const keyFile = path.join(root, 'keys', 'b1.key');
    const progress: string[] = [];
    if (database === 'pglite') {
      await expect(
        backupInstallation({
          installation: original,
          keyRing,
          outDir: path.join(root, 'backups', 'refused'),
          keyFile: path.join(root, 'keys', 'refused.key'),
          passphrase: PASSPHRASE,
        }),
      ).rejects.toMatchObject({ code: 'in_use' });
      await running.app.stop();
    }
    await expect(
      backupInstallation({
        installation: original,
        keyRing,
        outDir: path.join(backupDir, 'x'),
        keyFile: path.join(backupDir, 'x', 'k'),
        passphrase: PASSPHRASE,
      }),
    ).rejects.toMatchObject({ code: 'usage' });
    const manifest = await backupInstallation({
      installation: original,
      keyRing,
      outDir: backupDir,
      keyFile,
      passphrase: PASSPHRASE,
      onProgress: (m) => progress.push(m),
    });
    expect(manifest.database.kind).toBe(database);
    expect(manifest.attachments.files).toHaveLength(3);
    expect(manifest.keyIds).toEqual(['k2', 'k1']);
    expect(progress.some((m) => m.startsWith('done in'))).toBe(true);
    // Neither the key ring nor the passphrase is in the backup, the key file or the progress output.
    const secretOf = (ring: string) => ring.split(',').map((p) => p.split(':')[1]!);
    const everything = [
      ...fs
        .readdirSync(backupDir, { recursive: true, withFileTypes: true })
        .filter((f) => f.isFile())
        .map((f) => fs.readFileSync(path.join(f.parentPath, f.name))),
      fs.readFileSync(keyFile),
      Buffer.from(progress.join('\n')),
    ];
    for (const blob of everything) for (const secret of [...secretOf(keyRing), PASSPHRASE]) expect(blob.includes(Buffer.from(secret))).toBe(false);
    if (database === 'postgres') await running.app.stop();

    // 3. The installation is lost: database, attachment files, key ring.
    if (original.databaseUrl) await dropPostgresDatabase(original.databaseUrl);
    fs.rmSync(path.join(root, 'original'), { recursive: true, force: true });

    // 4. Restore into a new, empty installation.
    const restored = await installation('restored');
    await expect(restoreInstallation({ installation: restored, from: backupDir, keyFile, passphrase: 'not the passphrase at all' })).rejects.toMatchObject({
      code: 'passphrase',
    });
    expect(fs.existsSync(restored.attachmentsDir)).toBe(false); // refused before touching anything
    const result = await restoreInstallation({ installation: restored, from: backupDir, keyFile, passphrase: PASSPHRASE });
    expect(result.keyRing).toBe(keyRing);
    // A second restore into what is now a used installation is refused, with why; --force replaces it.
    const refusal = await restoreInstallation({ installation: restored, from: backupDir, keyFile, passphrase: PASSPHRASE }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(BackupError);
    expect((refusal as BackupError).code).toBe('not_empty');
    expect((refusal as BackupError).exitCode).toBe(3);
    expect((refusal as Error).message).toMatch(/holds data.*--force/);
    await restoreInstallation({ installation: restored, from: backupDir, keyFile, passphrase: PASSPHRASE, force: true });

    // 5. Everything is back.
    running = await startApp(restored, result.keyRing);
    for (const user of DEMO_USERS) {
      const res = await fetch(`${running.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: user.email, password: DEMO_PASSWORD }),
      });
      expect(res.status, user.email).toBe(200);
    }
    const after = {
      alice: await snapshot(running.url, await login(running.url, 'alice')),
      drgrey: await snapshot(running.url, await login(running.url, 'drgrey')),
    };
    expect(after).toEqual(before);
    const calls = await client(running.url, (await login(running.url, 'drgrey')).accessToken).get<Call>(`/api/calls/${call.body.id}`);
    expect(calls.body).toMatchObject({ id: call.body.id, status: 'declined' });
    // The restored installation keeps working: a new message and upload with the restored key ring.
    const sent = await client(running.url, (await login(running.url, 'alice')).accessToken).post(`/api/conversations/${conversation.id}/messages`, {
      clientId: crypto.randomUUID(),
      body: 'after the restore',
    });
    expect(sent.status).toBe(201);
    await running.app.stop();
  });
});
