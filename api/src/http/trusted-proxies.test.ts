import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv } from '../config.js';
import { DEMO_PASSWORD } from '../db/seed.js';
import { startTestApp, type TestApp, TEST_SECRETS } from '../testing/test-app.js';
import { TrustedProxies } from './trusted-proxies.js';
import { waitFor } from '@telemed/test-kit';

describe('TrustedProxies', () => {
  const proxies = new TrustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);

  it('believes X-Forwarded-For only from a trusted socket address', () => {
    expect(proxies.clientIp('127.0.0.1', '203.0.113.7')).toBe('203.0.113.7');
    expect(proxies.clientIp('::ffff:127.0.0.1', '203.0.113.7')).toBe('203.0.113.7');
    expect(proxies.clientIp('fd00::5', '2001:db8::1')).toBe('2001:db8::1');
    // Anyone else is named by the socket, whatever it claims.
    expect(proxies.clientIp('198.51.100.9', '203.0.113.7')).toBe('198.51.100.9');
    expect(proxies.clientIp('::ffff:198.51.100.9', '127.0.0.1')).toBe('198.51.100.9');
  });

  it('reads the chain from the right and stops at the first untrusted hop', () => {
    // The client put a fake address first; our proxies appended the real one and each other.
    expect(proxies.clientIp('127.0.0.1', '1.2.3.4, 203.0.113.7, 10.1.2.3')).toBe('203.0.113.7');
    // Every hop trusted: the leftmost one.
    expect(proxies.clientIp('127.0.0.1', '10.0.0.9, 10.0.0.8')).toBe('10.0.0.9');
    // A malformed hop ends the chain at the last address we could trust.
    expect(proxies.clientIp('127.0.0.1', '203.0.113.7, garbage, 10.0.0.8')).toBe('10.0.0.8');
    expect(proxies.clientIp('127.0.0.1', '')).toBe('127.0.0.1');
  });

  it('trusts nobody by default', () => {
    expect(new TrustedProxies([]).clientIp('127.0.0.1', '203.0.113.7')).toBe('127.0.0.1');
  });

  it('refuses bad entries with the variable named', () => {
    expect(() => new TrustedProxies(['10.0.0.0/33'])).toThrow(/TRUSTED_PROXIES: "10.0.0.0\/33": bad prefix length/);
    const env = {
      ROOM_TOKEN_SECRET: TEST_SECRETS.roomTokenSecret,
      ACCESS_TOKEN_SECRET: TEST_SECRETS.accessTokenSecret,
      MEDIA_WEBHOOK_SECRET: TEST_SECRETS.mediaWebhookSecret,
      ENCRYPTION_KEY: TEST_SECRETS.encryptionKey,
    };
    expect(() => configFromEnv({ ...env, TRUSTED_PROXIES: '127.0.0.1, proxy.local' })).toThrow(ConfigError);
    expect(() => configFromEnv({ ...env, TRUSTED_PROXIES: '127.0.0.1, proxy.local' })).toThrow(/TRUSTED_PROXIES: "proxy.local" is not an IP address/);
    expect(configFromEnv({ ...env, TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8' }).trustedProxies).toEqual(['127.0.0.1', '10.0.0.0/8']);
  });
});

describe('the API behind a proxy', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const login = (url: string, forwardedFor: string, password: string) =>
    fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      body: JSON.stringify({ email: 'alice@patients.demo', password }),
    });

  it('rate-limits logins and audits them by the client a trusted proxy names', async () => {
    t = await startTestApp('pglite', { trustedProxies: ['127.0.0.1'], loginRateLimit: 2 });
    expect((await login(t.url, '203.0.113.7', 'wrong')).status).toBe(401);
    expect((await login(t.url, '203.0.113.7', 'wrong')).status).toBe(401);
    expect((await login(t.url, '203.0.113.7', 'wrong')).status).toBe(429);
    // Another client behind the same proxy has its own budget.
    expect((await login(t.url, '198.51.100.1, 203.0.113.8', DEMO_PASSWORD)).status).toBe(200);
    const app = t.app;
    const row = await waitFor('the login audit row', () => app.db.selectFrom('audit_log').select('ip').where('action', '=', 'login').executeTakeFirst(), {
      timeoutMs: 10_000,
    });
    expect(row.ip).toBe('203.0.113.8');
  });

  it('ignores X-Forwarded-For from an address it does not trust', async () => {
    t = await startTestApp('pglite', { trustedProxies: ['10.0.0.0/8'], loginRateLimit: 2 });
    expect((await login(t.url, '203.0.113.7', 'wrong')).status).toBe(401);
    expect((await login(t.url, '203.0.113.8', 'wrong')).status).toBe(401);
    // A new spoofed address per attempt does not buy more attempts: the socket's address counts.
    expect((await login(t.url, '203.0.113.9', 'wrong')).status).toBe(429);
  });

  it('records the socket address in the audit log when the header is spoofed', async () => {
    t = await startTestApp('pglite', { trustedProxies: ['10.0.0.0/8'] });
    expect((await login(t.url, '203.0.113.7', DEMO_PASSWORD)).status).toBe(200);
    const app = t.app;
    const row = await waitFor('the login audit row', () => app.db.selectFrom('audit_log').select('ip').where('action', '=', 'login').executeTakeFirst(), {
      timeoutMs: 10_000,
    });
    expect(['127.0.0.1', '::ffff:127.0.0.1']).toContain(row.ip);
  });
});
