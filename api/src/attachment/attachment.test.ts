import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, Message, Page, Session } from '@telemed/sdk';
import { DATABASES, client, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR-fake-image-body-with-a-marker-PHI-42')]);

describe.each(DATABASES)('attachments on %s', (database) => {
  let t: TestApp;
  let dir: string;
  const s = {} as Record<DemoUser, Session>;
  let conversation: Conversation;

  const upload = (who: DemoUser, data: Buffer, fileName: string, conversationId = conversation.id) => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(data)], { type: 'application/octet-stream' }), fileName);
    return fetch(`${t.url}/api/conversations/${conversationId}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s[who].accessToken}` },
      body: form,
    });
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-att-test-'));
    t = await startTestApp(database, { attachmentsDir: dir, maxUploadBytes: 64 * 1024 });
    for (const who of ['alice', 'bob', 'drgrey'] as const) s[who] = await login(t.url, who);
    conversation = (await client(t.url, s.alice.accessToken).get<Page<Conversation>>('/api/conversations')).body.items.find((c) =>
      c.members.some((m) => m.userId === s.drgrey.user.id),
    )!;
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('uploads a file checked by content, stores it encrypted with its sha256, and lets members download it', async () => {
    const res = await upload('alice', PNG, 'scan.txt'); // the name lies; the content decides
    expect(res.status).toBe(201);
    const attachment = (await res.json()) as { id: string; contentType: string; sizeBytes: number; sha256: string };
    expect(attachment).toMatchObject({ contentType: 'image/png', sizeBytes: PNG.length });
    expect(attachment.sha256).toMatch(/^[0-9a-f]{64}$/);

    const files = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files).toHaveLength(1);
    const onDisk = fs.readFileSync(path.join(files[0]!.parentPath, files[0]!.name));
    expect(onDisk.includes(Buffer.from('PHI-42'))).toBe(false);

    const message = await client(t.url, s.alice.accessToken).post<Message>(`/api/conversations/${conversation.id}/messages`, {
      clientId: crypto.randomUUID(),
      body: 'my scan',
      attachmentId: attachment.id,
    });
    expect(message.body.attachmentId).toBe(attachment.id);

    const download = await fetch(`${t.url}/api/attachments/${attachment.id}`, { headers: { authorization: `Bearer ${s.drgrey.accessToken}` } });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(download.headers.get('content-disposition')).toContain('attachment;');
    expect(Buffer.from(await download.arrayBuffer())).toEqual(PNG);
    const stranger = await fetch(`${t.url}/api/attachments/${attachment.id}`, { headers: { authorization: `Bearer ${s.bob.accessToken}` } });
    expect(stranger.status).toBe(404);
    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['action', 'actor_id'])
      .where('entity_type', '=', 'attachment')
      .where('entity_id', '=', attachment.id)
      .execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['download', 'upload']);
  });

  it("refuses files over MAX_UPLOAD_SIZE, of types outside the allow-list, and outside one's conversations", async () => {
    expect((await upload('alice', Buffer.concat([PNG, Buffer.alloc(70 * 1024, 1)]), 'big.png')).status).toBe(413);
    const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100, 0)]);
    expect((await upload('alice', exe, 'report.pdf')).status).toBe(415);
    expect((await upload('alice', Buffer.from('%PDF-1.7\n...'), 'report.pdf')).status).toBe(201);
    expect((await upload('alice', Buffer.from('plain notes\n'), 'notes.txt')).status).toBe(201);
    expect((await upload('bob', PNG, 'x.png')).status).toBe(404);
    const json = await fetch(`${t.url}/api/conversations/${conversation.id}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.alice.accessToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    const other = (await client(t.url, s.bob.accessToken).get<Page<Conversation>>('/api/conversations')).body.items[0]!;
    const foreign = await upload('alice', PNG, 'x.png');
    const { id } = (await foreign.json()) as { id: string };
    const misuse = await client(t.url, s.bob.accessToken).post(`/api/conversations/${other.id}/messages`, {
      clientId: crypto.randomUUID(),
      body: 'look',
      attachmentId: id,
    });
    expect(misuse.status).toBe(404);
  });
});
