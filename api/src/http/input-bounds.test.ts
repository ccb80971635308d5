import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attachment, Call, Conversation, QualitySample, Session } from '@telemed/sdk';
import { EventsClient } from '../testing/events-client.js';
import { DATABASES, client, login, startTestApp, type TestApp } from '../testing/test-app.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64url');
const SOME_UUID = '7a1c2a43-5b2e-4c1d-9f0e-3d2b1a0c9e8f';

/**
 * Inputs PostgreSQL refuses (NUL in text, numbers beyond a column's range, times it cannot store,
 * malformed cursors) are refused at the edge with a 422 and the error shape, never a 500; the
 * issue #20 probe found each of these as a 500.
 */
describe.each(DATABASES)('inputs bounded by the database columns on %s', (database) => {
  let t: TestApp;
  let alice: Session;
  let grey: Session;
  let admin: Session;
  let call: Call;
  const as = (s: Session) => client(t.url, s.accessToken);

  beforeAll(async () => {
    t = await startTestApp(database);
    [alice, grey, admin] = await Promise.all([login(t.url, 'alice'), login(t.url, 'drgrey'), login(t.url, 'admin')]);
    call = (await as(alice).post<Call>('/api/calls', { type: 'video', inviteeIds: [grey.user.id] })).body;
    expect((await as(grey).post(`/api/calls/${call.id}/accept`)).status).toBe(200);
  }, 60_000);
  afterAll(async () => t?.close());

  const refused = (res: { status: number; body: unknown }, what: string): void => {
    expect(res.status, what).toBe(422);
    expect(res.body, what).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.any(String), details: expect.any(Array) } });
  };

  it('refuses NUL characters and unpaired surrogates in stored text and in query parameters', async () => {
    refused(await as(alice).post('/api/conversations', { kind: 'group', memberIds: [grey.user.id], title: 'a\u0000b' }), 'conversation title');
    refused(await as(alice).post('/api/conversations', { kind: 'group', memberIds: [grey.user.id], title: 'a\ud800b' }), 'unpaired surrogate');
    refused(
      await as(grey).post('/api/calls/scheduled', {
        type: 'video',
        inviteeIds: [alice.user.id],
        scheduledFor: new Date(Date.now() + 3600_000).toISOString(),
        title: '\u0000',
      }),
      'call title',
    );
    refused(await as(alice).get(`/api/calls/${call.id}/quality?trackId=a%00`), 'trackId filter');
    refused(await as(admin).get('/api/admin/users?cursor=a%00b'), 'users cursor');
    // Well-formed text beyond ASCII is fine.
    expect((await as(alice).post<Conversation>('/api/conversations', { kind: 'group', memberIds: [grey.user.id], title: 'Ärztin 😀' })).body.title).toBe(
      'Ärztin 😀',
    );
  });

  it('refuses times PostgreSQL or a four-digit ISO year cannot hold, in filters, bookings and samples', async () => {
    for (const from of ['0000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00.000Z', '0001-01-01T00:00:00+01:00']) {
      refused(await as(alice).get(`/api/calls?from=${encodeURIComponent(from)}`), `from=${from}`);
    }
    refused(await as(admin).get(`/api/admin/calls?to=${encodeURIComponent('9999-12-31T23:59:59.999-14:00')}`), 'to in year 10000');
    refused(await as(alice).get(`/api/calls/${call.id}/quality?from=0000-01-01T00:00:00Z`), 'quality from');
    refused(await as(grey).post('/api/calls/scheduled', { type: 'video', inviteeIds: [alice.user.id], scheduledFor: '0000-01-01T00:00:00Z' }), 'scheduledFor');
    expect((await as(alice).get('/api/calls?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59.999Z')).status).toBe(200);
  });

  it('refuses cursors with a malformed time or id part', async () => {
    const forged = [
      b64(`0000-01-01T00:00:00.000Z|${SOME_UUID}`),
      b64(`+275760-09-13T00:00:00.000Z|${SOME_UUID}`),
      b64('2026-01-01T00:00:00.000Z|not-a-uuid'),
      b64(`2026-01-01T00:00:00.000Z|${SOME_UUID}\u0000`),
      b64(`Jan 1 2026|${SOME_UUID}`),
      b64(`2026-01-01T00:00:00.000Z|${SOME_UUID}|x`),
      'not base64!',
    ];
    for (const cursor of forged) {
      refused(await as(alice).get(`/api/conversations?cursor=${encodeURIComponent(cursor)}`), `conversations cursor ${cursor}`);
      refused(await as(alice).get(`/api/calls?cursor=${encodeURIComponent(cursor)}`), `calls cursor ${cursor}`);
      refused(await as(alice).get(`/api/calls/scheduled?cursor=${encodeURIComponent(cursor)}`), `upcoming cursor ${cursor}`);
    }
    const page = await as(alice).get<{ nextCursor: string | null }>('/api/conversations?limit=1');
    expect(page.body.nextCursor).toEqual(expect.any(String));
    expect((await as(alice).get(`/api/conversations?limit=1&cursor=${page.body.nextCursor}`)).status).toBe(200);
  });

  it("refuses quality samples beyond their columns' ranges, and stores a value too small for a real column as 0", async () => {
    const sample = {
      trackId: 't1',
      direction: 'in',
      kind: 'video',
      source: 'camera',
      sampledAt: new Date().toISOString(),
      bitrateBps: 500_000,
      packetsLost: 3,
      jitterMs: 5,
      rttMs: 60,
      framesPerSecond: 30,
      frameWidth: 640,
      frameHeight: 360,
      jitterBufferDelayMs: 40,
    };
    const bad: Array<Record<string, unknown>> = [
      { trackId: 'x\u0000' },
      { packetsLost: 2 ** 31 },
      { frameWidth: 2 ** 31 },
      { frameHeight: 2 ** 53 },
      { bitrateBps: 1e308 },
      { jitterMs: 1e308 },
      { rttMs: -3.5e38 },
      { framesPerSecond: 1e39 },
      { jitterBufferDelayMs: 1e308 },
      { sampledAt: '0000-01-01T00:00:00Z' },
      { sampledAt: '+275760-09-13T00:00:00.000Z' },
    ];
    for (const change of bad) refused(await as(alice).post(`/api/calls/${call.id}/quality`, { samples: [{ ...sample, ...change }] }), JSON.stringify(change));
    expect(
      (await as(alice).post(`/api/calls/${call.id}/quality`, { samples: [{ ...sample, trackId: 'tiny', jitterMs: 1e-300, packetsLost: 2 ** 31 - 1 }] })).status,
    ).toBe(200);
    const stored = (await as(alice).get<{ items: QualitySample[] }>(`/api/calls/${call.id}/quality?trackId=tiny`)).body.items;
    expect(stored).toEqual([expect.objectContaining({ jitterMs: 0, packetsLost: 2 ** 31 - 1 })]);
  });

  it('takes an /events cursor beyond the ids\' range as "nothing missed"', async () => {
    const events = new EventsClient(t.url, alice.accessToken, 1e20);
    expect(await events.ready()).toMatchObject({ kind: 'ready', truncated: false });
    await events.close();
  });

  it("stores an uploaded file's name as browsers send it (UTF-8), without NULs or control characters", async () => {
    // (Raw control characters in a part's header make the multipart body malformed: a 400 from the parser.)
    const conversation = (await as(alice).get<{ items: Conversation[] }>('/api/conversations')).body.items[0]!;
    const upload = async (disposition: Buffer): Promise<Attachment> => {
      const boundary = 'b0undary';
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\n`),
        disposition,
        Buffer.from('\r\nContent-Type: text/plain\r\n\r\nnotes\r\n'),
        Buffer.from(`--${boundary}--\r\n`),
      ]);
      const res = await fetch(`${t.url}/api/conversations/${conversation.id}/attachments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
        body,
      });
      expect(res.status).toBe(201);
      return (await res.json()) as Attachment;
    };
    const raw = (name: string): Buffer =>
      Buffer.concat([Buffer.from('Content-Disposition: form-data; name="file"; filename="'), Buffer.from(name, 'utf8'), Buffer.from('"')]);
    expect((await upload(raw('résumé 😀.txt'))).fileName).toBe('résumé 😀.txt');
    expect((await upload(Buffer.from('Content-Disposition: form-data; name="file"; filename*=UTF-8\'\'a%07b%7Fc.txt'))).fileName).toBe('a_b_c.txt');
    expect((await upload(Buffer.from('Content-Disposition: form-data; name="file"; filename*=UTF-8\'\'%C3%A4rztin%00.txt'))).fileName).toBe('ärztin_.txt');
    expect((await upload(raw('😀'.repeat(250)))).fileName).toBe('😀'.repeat(200)); // whole code points
  });
});
