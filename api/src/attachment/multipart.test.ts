// Upload bodies as browsers and broken clients send them, at the byte level: UTF-8 file names in
// both encodings browsers use, and every way a multipart body can be cut or mangled (each a 4xx
// with the error shape, nothing stored, the server still serving).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attachment, Conversation, Page, Session } from '@telemed/sdk';
import { DATABASES, client, login, startTestApp, type TestApp } from '../testing/test-app.js';
import { cleanFileName } from './multipart.js';

const BOUNDARY = '----WebKitFormBoundaryq2x9JkRzLb0Pm7Ad';
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 0x42)]);

function body(disposition: Buffer | string, data: Buffer = PNG): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: `),
    Buffer.isBuffer(disposition) ? disposition : Buffer.from(disposition, 'latin1'),
    Buffer.from('\r\nContent-Type: application/octet-stream\r\n\r\n'),
    data,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

describe.each(DATABASES)('multipart uploads on %s', (database) => {
  let t: TestApp;
  let dir: string;
  let alice: Session;
  let conversation: Conversation;

  const post = (payload: Buffer, contentType = `multipart/form-data; boundary=${BOUNDARY}`): Promise<{ status: number; json: unknown }> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        `${t.url}/api/conversations/${conversation.id}/attachments`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': contentType, 'content-length': payload.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const files = (): number => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).length;
  const rows = async (): Promise<number> =>
    Number(
      (
        await t.app.db
          .selectFrom('attachments')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-multipart-test-'));
    t = await startTestApp(database, { attachmentsDir: dir, maxUploadBytes: 64 * 1024 });
    alice = await login(t.url, 'alice');
    conversation = (await client(t.url, alice.accessToken).get<Page<Conversation>>('/api/conversations')).body.items[0]!;
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a UTF-8 file name sent as raw bytes in filename="…" (as browsers send it)', async () => {
    const name = 'Résumé – 診断書 🩺.png';
    const res = await post(body(Buffer.concat([Buffer.from('form-data; name="file"; filename="'), Buffer.from(name, 'utf8'), Buffer.from('"')])));
    expect(res.status).toBe(201);
    const attachment = res.json as Attachment;
    expect(attachment.fileName).toBe(name);
    const row = await t.app.db.selectFrom('attachments').select('file_name').where('id', '=', attachment.id).executeTakeFirstOrThrow();
    expect(row.file_name).toBe(name);
    const download = await fetch(`${t.url}/api/attachments/${attachment.id}`, { headers: { authorization: `Bearer ${alice.accessToken}` } });
    expect(download.headers.get('content-disposition')).toContain(`filename*=UTF-8''${encodeURIComponent(name)}`);
  });

  it('prefers the RFC 5987 filename* over the ASCII fallback', async () => {
    const name = 'Ärztlicher Befund ñ.png';
    const res = await post(body(`form-data; name="file"; filename="fallback.png"; filename*=UTF-8''${encodeURIComponent(name)}`));
    expect(res.status).toBe(201);
    expect((res.json as Attachment).fileName).toBe(name);
  });

  it('cleans control characters, quotes and paths out of file names', async () => {
    expect(cleanFileName('a\u0007b\u009bc"d\\e.png')).toBe('a_b_c_d_e.png');
    expect(cleanFileName('   ')).toBe('file');
    expect(cleanFileName(undefined)).toBe('file');
    expect(Array.from(cleanFileName('🩺'.repeat(300)))).toHaveLength(200);
    const res = await post(body(`form-data; name="file"; filename*=UTF-8''${encodeURIComponent('../../etc/x\u0001y.png')}`));
    expect(res.status).toBe(201);
    expect((res.json as Attachment).fileName).toBe('x_y.png');
  });

  it('answers every cut of a valid body with a 4xx in the error shape and stores nothing', async () => {
    const valid = body('form-data; name="file"; filename="scan.png"');
    const before = { files: files(), rows: await rows() };
    const statuses = new Set<number>();
    // Every cut point through the headers and boundaries, every fourth through the file's bytes; a
    // body cut only in the CRLF after its closing boundary is complete (RFC 2046 5.1.1).
    for (let cut = 0; cut < valid.length - 2; cut += cut > 120 && cut < valid.length - 60 ? 4 : 1) {
      const res = await post(valid.subarray(0, cut));
      statuses.add(res.status);
      expect(res.status, `cut at ${cut}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `cut at ${cut}`).toBeLessThan(500);
      expect(res.json, `cut at ${cut}`).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    }
    expect([...statuses]).toEqual([400]);
    expect({ files: files(), rows: await rows() }).toEqual(before);
    expect((await post(valid)).status).toBe(201);
  });

  it('refuses a missing or empty boundary and a part header over the limit', async () => {
    const valid = body('form-data; name="file"; filename="scan.png"');
    for (const type of ['multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; boundary="unterminated']) {
      const res = await post(valid, type);
      expect(res.status, type).toBe(400);
      expect(res.json).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    }
    const huge = body(`form-data; name="file"; filename="${'a'.repeat(40 * 1024)}.png"`);
    expect((await post(huge)).json).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  });
});
