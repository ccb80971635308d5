import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardHttpServer } from './raw-http.js';

describe('guardHttpServer', () => {
  let server: http.Server;
  let port = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    guardHttpServer(server, { logger: { info: () => undefined, error: () => undefined }, codeFor: () => 'BAD_REQUEST' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // A proxy reuses idle connections: one the server closed at Node's default 5 s, just as the proxy
  // sent a request with a body on it, came back 502 from Caddy 2.6.
  it('keeps an idle keep-alive connection open past Node’s default 5 s, so a proxy can reuse it', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const post = (): Promise<{ body: string; socket: Socket }> =>
      new Promise((resolve, reject) => {
        const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/', agent }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ body, socket: req.socket as Socket }));
        });
        req.on('error', reject);
        req.end('{"a":1}');
      });
    const first = await post();
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const second = await post();
    expect([first.body, second.body]).toEqual(['ok', 'ok']);
    expect(second.socket).toBe(first.socket);
    agent.destroy();
  }, 20_000);
});
