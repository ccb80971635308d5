// Malformed HTTP against the built platform: broken multipart uploads, requests Node's parser
// refuses, odd methods and targets, upgrades on unknown paths. Each gets a 4xx with the error shape
// (never a 5xx, never silence), nothing is stored from a refused upload, and both processes stay up
// (same pids) and keep serving. The random multipart phase is seeded (FUZZ_SEED to replay).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestPlatform } from '../calls/harness.js';
import { startTestPlatform } from '../platform.js';
import { endpoint, expectStillServing, pidsOf, type Pids } from './serving.js';
import { errorShape, rawRequest, type RawResponse } from './raw-http.js';
import { prng } from './raw-ws.js';

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RANDOM_UPLOADS = Number(process.env.FUZZ_UPLOADS ?? 120);
const RANDOM_BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 12_000);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300, 0x42)]);
const BOUNDARY = 'fuzzBoundary7MA4YWxkTrZu0gW';

let platform: TestPlatform;
let dataDir: string;
let pids: Pids;
let accessToken: string;
let conversationId: string;
let api: { host: string; port: number };
let media: { host: string; port: number };
let accepted = 0;

const storedFiles = (): number => {
  const dir = path.join(dataDir, 'attachments');
  return fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).length : 0;
};

/** A complete upload request whose body and content type are given as they are. */
function uploadRequest(body: Buffer, contentType = `multipart/form-data; boundary=${BOUNDARY}`, extraHeaders: string[] = []): Buffer {
  const head = [
    `POST /api/conversations/${conversationId}/attachments HTTP/1.1`,
    `host: ${api.host}:${api.port}`,
    `authorization: Bearer ${accessToken}`,
    `content-type: ${contentType}`,
    `content-length: ${body.length}`,
    'connection: close',
    ...extraHeaders,
  ];
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), body]);
}

/** An upload whose body is sent as chunks written by hand (`chunks` is the raw chunked encoding). */
function chunkedUpload(chunks: Buffer): Buffer {
  return Buffer.concat([Buffer.from(uploadRequest(Buffer.alloc(0)).toString().replace('content-length: 0', 'transfer-encoding: chunked')), chunks]);
}

function part(headers: string, data: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`--${BOUNDARY}\r\n${headers}\r\n\r\n`), Buffer.isBuffer(data) ? data : Buffer.from(data), Buffer.from('\r\n')]);
}

const filePart = (data: Buffer = PNG, fileName = 'scan.png'): Buffer =>
  part(`Content-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: image/png`, data);
const closing = Buffer.from(`--${BOUNDARY}--\r\n`);
const validBody = (): Buffer => Buffer.concat([filePart(), closing]);

function expectClientError(response: RawResponse, status?: number): void {
  if (status !== undefined) expect(response.status, response.raw.slice(0, 300)).toBe(status);
  expect(response.status, response.raw.slice(0, 300)).toBeGreaterThanOrEqual(400);
  expect(response.status, response.raw.slice(0, 300)).toBeLessThan(500);
  expect(errorShape(response.body), response.raw.slice(0, 300)).toBeDefined();
}

const assertServing = (): Promise<void> => expectStillServing(platform, pids);

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-hardening-'));
  platform = (await startTestPlatform({ apiEnv: { SEED_DEMO: 'true', MAX_UPLOAD_SIZE: String(64 * 1024) }, numWorkers: 1, dataDir })) as TestPlatform;
  pids = pidsOf(platform);
  api = endpoint(platform.apiUrl);
  media = endpoint(platform.mediaHttpUrl);
  const login = await fetch(`${platform.apiUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'alice@patients.demo', password: 'telemed-demo' }),
  });
  accessToken = ((await login.json()) as { accessToken: string }).accessToken;
  const conversations = await fetch(`${platform.apiUrl}/api/conversations`, { headers: { authorization: `Bearer ${accessToken}` } });
  conversationId = ((await conversations.json()) as { items: { id: string }[] }).items[0]!.id;
});

afterAll(async () => {
  await platform?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('malformed multipart uploads', () => {
  const CASES: { name: string; request: () => Buffer; status: number }[] = [
    { name: 'a file part that never reaches its closing boundary', request: () => uploadRequest(filePart().subarray(0, -2)), status: 400 },
    {
      name: 'a file part cut in its data',
      request: () =>
        uploadRequest(
          Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n`), PNG.subarray(0, 100)]),
        ),
      status: 400,
    },
    { name: 'part headers cut short', request: () => uploadRequest(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-da`)), status: 400 },
    { name: 'no boundary parameter', request: () => uploadRequest(validBody(), 'multipart/form-data'), status: 400 },
    { name: 'a boundary that never occurs', request: () => uploadRequest(Buffer.from('just some bytes, no multipart framing at all\r\n')), status: 400 },
    {
      name: 'a part header over the size limit',
      request: () =>
        uploadRequest(
          Buffer.concat([
            Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nX-Pad: ${'a'.repeat(20 * 1024)}\r\n\r\n`),
            PNG,
            Buffer.from('\r\n'),
            closing,
          ]),
        ),
      status: 400,
    },
    { name: 'the closing boundary alone', request: () => uploadRequest(closing), status: 422 },
    {
      name: 'a field named file without a file name',
      request: () => uploadRequest(Buffer.concat([part('Content-Disposition: form-data; name="file"', 'plain text'), closing])),
      status: 422,
    },
    { name: 'multipart/mixed instead of form-data', request: () => uploadRequest(validBody(), `multipart/mixed; boundary=${BOUNDARY}`), status: 415 },
    {
      name: 'a file over the size limit',
      request: () => uploadRequest(Buffer.concat([filePart(Buffer.concat([PNG, Buffer.alloc(70 * 1024, 1)])), closing])),
      status: 413,
    },
    {
      name: 'a chunked body with a broken chunk',
      request: () => chunkedUpload(Buffer.concat([Buffer.from(`c8\r\n`), validBody().subarray(0, 200), Buffer.from('\r\nZZZ\r\n')])),
      status: 400,
    },
    {
      name: 'a chunked body that ends before its last chunk',
      request: () => chunkedUpload(Buffer.concat([Buffer.from(`c8\r\n`), validBody().subarray(0, 200), Buffer.from('\r\n0\r\n\r\n')])),
      status: 400,
    },
  ];

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, { request, status }) => {
    const before = storedFiles();
    expectClientError(await rawRequest(api, request()), status);
    expect(storedFiles()).toBe(before);
  });

  it('survives a client that closes in the middle of an upload', async () => {
    const before = storedFiles();
    const full = uploadRequest(validBody());
    for (const cut of [50, full.length - validBody().length + 20, full.length - 10]) {
      // The declared length promises more than is sent: the server waits, then the client goes away.
      const response = await rawRequest(api, full.subarray(0, cut), 300);
      expect(response.status === 0 || (response.status >= 400 && response.status < 500)).toBe(true);
    }
    await assertServing();
    expect(storedFiles()).toBe(before);
  });

  it(
    `answers seeded random mutations of a valid upload (seed ${SEED}) with 201 or a 4xx and stores only the accepted`,
    async () => {
      const random = prng(SEED);
      const before = storedFiles();
      const deadline = Date.now() + RANDOM_BUDGET_MS;
      const statuses = new Map<number, number>();
      let sent = 0;
      try {
        while (sent < RANDOM_UPLOADS && Date.now() < deadline) {
          let body = validBody();
          for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) {
            const at = Math.floor(random() * body.length);
            const kind = Math.floor(random() * 5);
            if (kind === 0)
              body = body.subarray(0, at); // truncate
            else if (kind === 1)
              body = Buffer.concat([body.subarray(0, at), Buffer.from([Math.floor(random() * 256)]), body.subarray(at + 1)]); // flip a byte
            else if (kind === 2)
              body = Buffer.concat([body.subarray(0, at), Buffer.from(`\r\n--${BOUNDARY}${random() < 0.5 ? '--' : ''}\r\n`), body.subarray(at)]); // stray boundary
            else if (kind === 3)
              body = Buffer.concat([
                body.subarray(0, at),
                Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256))),
                body.subarray(at),
              ]); // noise
            else body = Buffer.from(body.toString('latin1').replace(/\r\n/, random() < 0.5 ? '\n' : ''), 'latin1'); // broken line ending
          }
          const response = await rawRequest(api, uploadRequest(body));
          sent++;
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (response.status === 201) accepted++;
          else expectClientError(response);
        }
        expect(storedFiles() - before).toBe(accepted);
        await assertServing();
      } catch (error) {
        console.error(`multipart fuzzing failed: replay with FUZZ_SEED=${SEED}`);
        throw error;
      }
      console.info(`multipart: ${sent} mutated uploads from seed ${SEED}, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    },
    RANDOM_BUDGET_MS + 60_000,
  );
});

describe.each([
  ['the API', () => api],
  ['the media server', () => media],
] as const)('requests %s refuses at the HTTP level', (_name, target) => {
  const request = (line: string, headers: string[] = []): string => [line, `host: ${target().host}`, 'connection: close', ...headers].join('\r\n') + '\r\n\r\n';

  it('answers headers over the size limit with 431 and the error shape', async () => {
    expectClientError(await rawRequest(target(), request('GET /health HTTP/1.1', [`x-big: ${'a'.repeat(20 * 1024)}`])), 431);
  });

  it('answers a broken request line with 400 and the error shape', async () => {
    expectClientError(await rawRequest(target(), 'GARBAGE\r\n\r\n'), 400);
    expectClientError(await rawRequest(target(), 'GET /health HTTP/1.1\r\nbad header line\r\n\r\n'), 400);
    expectClientError(await rawRequest(target(), request('POST /health HTTP/1.1', ['content-length: 5', 'transfer-encoding: chunked'])), 400);
  });

  it('answers a method it does not allow with 405 and one it does not know with 501, in the error shape', async () => {
    expectClientError(await rawRequest(target(), request('PUT /health HTTP/1.1', ['content-length: 0'])), 405);
    // RFC 9110 15.6.2: a method the server does not recognise is 501 (the media server allows GET only: 405).
    const unknown = await rawRequest(target(), request('MKCOL /health HTTP/1.1'));
    expect([405, 501]).toContain(unknown.status);
    expect(errorShape(unknown.body), unknown.raw).toBeDefined();
  });

  it('answers odd request targets with a 4xx in the error shape', async () => {
    for (const path of ['//[', '/%', '/%E0%A4%A', '/rooms/%/stats', '/api/%', '/health/%00', '/..%2f..%2fetc/passwd']) {
      const response = await rawRequest(target(), request(`GET ${path} HTTP/1.1`));
      expectClientError(response);
    }
  });

  it('answers a WebSocket upgrade on an unknown path with 404 in the error shape', async () => {
    for (const path of ['/nope', '/events-x', '/rtcx', '/%', '//[']) {
      const response = await rawRequest(
        target(),
        request(`GET ${path} HTTP/1.1`, [
          'upgrade: websocket',
          'connection: Upgrade',
          'sec-websocket-version: 13',
          'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==',
        ]).replace('connection: close\r\n', ''),
      );
      // A target that is no URL path at all is a 400.
      expectClientError(response, path === '//[' ? 400 : 404);
      expect(response.ended).toBe(true);
    }
  });

  it('keeps serving with the same process', async () => {
    await assertServing();
  });
});

describe('WebSocket handshakes the servers refuse', () => {
  const upgrade = (target: { host: string; port: number }, path: string, headers: string[]): string =>
    [`GET ${path} HTTP/1.1`, `host: ${target.host}`, 'connection: Upgrade', 'upgrade: websocket', ...headers].join('\r\n') + '\r\n\r\n';

  it('answers a bad handshake on /events and /rtc with a 4xx in the error shape', async () => {
    for (const [target, path] of [
      [api, `/events?access_token=${accessToken}`],
      [media, '/rtc?token=x'],
    ] as const) {
      expectClientError(await rawRequest(target, upgrade(target, path, ['sec-websocket-version: 13'])), 400); // no key
      expectClientError(await rawRequest(target, upgrade(target, path, ['sec-websocket-version: 99', 'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ=='])), 400);
      expectClientError(await rawRequest(target, upgrade(target, path, ['sec-websocket-version: 13', 'sec-websocket-key: short'])), 400);
      expectClientError(
        await rawRequest(target, upgrade(target, path, ['sec-websocket-version: 13', 'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==']).replace('GET', 'POST')),
        405,
      );
    }
  });

  it('still uploads, answers and serves after all of it', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(PNG)]), 'after.png');
    const before = storedFiles();
    const res = await fetch(`${platform.apiUrl}/api/conversations/${conversationId}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}` },
      body: form,
    });
    expect(res.status).toBe(201);
    expect(storedFiles()).toBe(before + 1);
    await assertServing();
  });
});
