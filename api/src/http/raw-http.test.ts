// The API's edges outside Koa: requests Node's parser refuses, answers the router makes without a
// body, upgrades on unknown paths, and WebSocket protocol errors on /events. Each gets its refusal
// in the error shape or its close code, and the server keeps serving.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { login, startTestApp, type TestApp } from '../testing/test-app.js';

let t: TestApp;
let port: number;

/** Writes raw bytes and reads until the server closes the connection. */
function raw(bytes: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('close', () =>
      resolve({ status: Number(answer.split(' ')[1]), body: JSON.parse(answer.slice(answer.indexOf('{'), answer.lastIndexOf('}') + 1)) as unknown }),
    );
    socket.on('error', reject);
  });
}

const request = (line: string, headers: string[] = []): string => [line, 'host: x', 'connection: close', ...headers].join('\r\n') + '\r\n\r\n';

beforeAll(async () => {
  t = await startTestApp('pglite');
  port = t.app.port;
});
afterAll(async () => {
  await t?.close();
});

describe('answers outside the routes', () => {
  it('are in the error shape: 405, 501, 431, 400 and 404 for an upgrade on an unknown path', async () => {
    expect(await raw(request('PUT /health HTTP/1.1', ['content-length: 0']))).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED' } } });
    expect(await raw(request('MKCOL /api/conversations HTTP/1.1'))).toMatchObject({ status: 501, body: { error: { code: 'NOT_IMPLEMENTED' } } });
    expect(await raw(request('GET /health HTTP/1.1', [`x-big: ${'a'.repeat(20_000)}`]))).toMatchObject({
      status: 431,
      body: { error: { code: 'HEADERS_TOO_LARGE' } },
    });
    expect(await raw('NOT HTTP AT ALL\r\n\r\n')).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
    const upgrade = ['connection: Upgrade', 'upgrade: websocket', 'sec-websocket-version: 13', 'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ=='];
    expect(await raw(request('GET /nope HTTP/1.1', upgrade).replace('connection: close\r\n', ''))).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    expect(await raw(request('GET //[ HTTP/1.1', upgrade).replace('connection: close\r\n', ''))).toMatchObject({
      status: 400,
      body: { error: { code: 'BAD_REQUEST' } },
    });
    expect(await raw(request('GET /events HTTP/1.1', upgrade).replace('connection: close\r\n', ''))).toMatchObject({
      status: 401,
      body: { error: { code: 'UNAUTHORIZED' } },
    });
  });
});

describe('/events protocol errors', () => {
  it('close that connection with 1007 (invalid UTF-8) or 1009 (too big), and the server keeps serving', async () => {
    const { accessToken } = await login(t.url, 'alice');
    const open = async (): Promise<WebSocket> => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/events?access_token=${accessToken}`);
      await new Promise((resolve, reject) => socket.once('message', resolve).once('error', reject));
      return socket;
    };
    const closeCode = (socket: WebSocket): Promise<number> => new Promise((resolve) => socket.once('close', (code) => resolve(code)));
    const utf8 = await open();
    const utf8Closed = closeCode(utf8);
    // ws does not check a Buffer sent as text: the server sees invalid UTF-8.
    utf8.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
    expect(await utf8Closed).toBe(1007);
    const big = await open();
    const bigClosed = closeCode(big);
    big.send('x'.repeat(5000));
    expect(await bigClosed).toBe(1009);
    (await open()).close();
    expect((await fetch(`${t.url}/ready`)).status).toBe(200);
  });
});
