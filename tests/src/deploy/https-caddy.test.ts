// The production stack behind Caddy (deploy/Caddyfile) on one HTTPS origin, with a CA the test
// creates and Chromium trusts through its NSS database (no --ignore-certificate-errors): two
// doctors sign in over https and make a video call through the SFU (signaling over wss via Caddy);
// X-Forwarded-For through the proxy names the real client, and a spoofed one is ignored.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../browser.js';
import { startCaddy, type Caddy } from './caddy.js';
import { doctorsVideoCall } from './browser-call.js';
import { addDoctors, START_TIMEOUT_MS, startProduction, type ProductionStack } from './production.js';
import { createTestCa, type TestCa } from './tls.js';
import { freePortRange } from '@telemed/test-kit';

const HOST = 'telemed.test';

describe('production behind Caddy over HTTPS', () => {
  let stack: ProductionStack;
  let caddy: Caddy;
  let ca: TestCa;
  let origin: string;
  let browser: TestBrowser | undefined;

  beforeAll(async () => {
    const port = await freePortRange(1);
    origin = `https://${HOST}:${port}`;
    stack = await startProduction({ PUBLIC_URL: origin, TRUSTED_PROXIES: '127.0.0.1', LOGIN_RATE_LIMIT: '3' }, { beforeStart: addDoctors });
    ca = createTestCa(path.join(stack.dir, 'tls'), HOST);
    caddy = await startCaddy({
      dir: stack.dir,
      domain: HOST,
      port,
      cert: ca.cert,
      key: ca.key,
      api: `127.0.0.1:${stack.ports.api}`,
      media: `127.0.0.1:${stack.ports.media}`,
    });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
    await caddy?.stop();
    await stack?.stop();
    if (stack) fs.rmSync(stack.dir, { recursive: true, force: true });
  });

  /** A request to Caddy from a chosen loopback address, verifying the chain against the test CA only. */
  function viaProxy(options: {
    from: string;
    path: string;
    method?: string;
    body?: unknown;
    headers?: Record<string, string>;
  }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return new Promise((resolve, reject) => {
      const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
      const req = https.request(
        {
          host: '127.0.0.1',
          port: caddy.port,
          servername: HOST,
          path: options.path,
          method: options.method ?? 'GET',
          localAddress: options.from,
          ca: fs.readFileSync(ca.caCert),
          headers: { host: `${HOST}:${caddy.port}`, ...(payload ? { 'content-type': 'application/json' } : {}), ...options.headers },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  const failedLogin = (from: string, forwardedFor?: string) =>
    viaProxy({
      from,
      path: '/api/auth/login',
      method: 'POST',
      body: { email: 'nobody@clinic.test', password: 'wrong password' },
      ...(forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {}),
    });

  it("serves the apps and the API over HTTPS with the test CA, keeps /metrics and the media server's HTTP inside", async () => {
    const home = await viaProxy({ from: '127.0.0.1', path: '/' });
    expect(home.status).toBe(200);
    expect(home.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect((await viaProxy({ from: '127.0.0.1', path: '/ready' })).status).toBe(200);
    expect((await viaProxy({ from: '127.0.0.1', path: '/metrics' })).status).toBe(404);
    // /rooms is the media server's service API: through the proxy it is the API's 404.
    expect((await viaProxy({ from: '127.0.0.1', path: '/rooms' })).status).toBe(404);
  });

  it('names the real client through the proxy and ignores a spoofed X-Forwarded-For', async () => {
    // One client tries three wrong passwords, each time claiming another address: Caddy replaces
    // the claim with the address it sees, so the three share one budget and the fourth is limited.
    for (const spoof of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) expect((await failedLogin('127.0.0.5', spoof)).status).toBe(401);
    const limited = await failedLogin('127.0.0.5', '203.0.113.4');
    expect(limited.status).toBe(429);
    // Another client behind the same proxy is not limited: the API does not see just Caddy's address.
    expect((await failedLogin('127.0.0.6')).status).toBe(401);
    // Straight to the API from an address that is not a trusted proxy, the header is ignored too:
    // still the limited client.
    const direct = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${stack.apiUrl}/api/auth/login`,
        { method: 'POST', localAddress: '127.0.0.5', headers: { 'content-type': 'application/json', 'x-forwarded-for': '127.0.0.6' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ email: 'nobody@clinic.test', password: 'x' }));
    });
    expect(direct).toBe(429);
  });

  it('a browser without the test CA refuses the site', async () => {
    const untrusting = await launchBrowser('chromium', { args: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`] });
    try {
      const page = await untrusting.newPage();
      await expect(page.goto(`${origin}/`)).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await untrusting.close();
    }
  });

  it("two doctors sign in over https and see each other's video through the SFU", async () => {
    browser = await launchBrowser('chromium', { home: ca.browserHome, args: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`] });
    const {
      pages: [house, wilson],
      video: frames,
    } = await doctorsVideoCall(browser, origin);
    expect(await house.evaluate(() => location.protocol)).toBe('https:');
    console.log(
      `[deploy] over https via Caddy: house sees ${frames[0].width}px, ${frames[0].frames} frames; wilson sees ${frames[1].width}px, ${frames[1].frames} frames`,
    );
    // The signaling socket went through the proxy's origin.
    expect(stack.output()).not.toMatch(/"level":(50|60)/);
    expect([...house.errors, ...wilson.errors].filter((e) => /certificate|ERR_CERT|mixed content/i.test(e))).toEqual([]);
  });
});
