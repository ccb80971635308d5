import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertPublicHost, checkWebhookUrl, guardedLookup, isPublicAddress } from './webhook-target.js';

describe('webhook targets (SSRF guard)', () => {
  it('tells public addresses from loopback, private, link-local, CGNAT, unique-local and IPv4-mapped ones', () => {
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      'not-an-ip',
    ]) {
      expect(isPublicAddress(ip), ip).toBe(false);
    }
    for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) expect(isPublicAddress(ip), ip).toBe(true);
  });

  it('refuses private targets at registration unless allowed, and http: and credentials in production', async () => {
    await expect(assertPublicHost(new URL('https://127.0.0.1/x'), false)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(assertPublicHost(new URL('https://[::1]/x'), false)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(assertPublicHost(new URL('https://localhost/x'), false)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(assertPublicHost(new URL('http://127.0.0.1/x'), true)).resolves.toBeUndefined();
    expect(() => checkWebhookUrl('http://example.com/x', false)).toThrow('url: must be https');
    expect(() => checkWebhookUrl('https://u:p@example.com/x', false)).toThrow('credentials');
    expect(checkWebhookUrl('http://127.0.0.1:9/x', true).port).toBe('9');
  });

  it('refuses at connection time a name that resolves to loopback (the address checked is the one connected to)', async () => {
    const server = http.createServer((_req, res) => res.end('reached'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const get = (allow: boolean) =>
      new Promise<string>((resolve) => {
        http
          .get({ host: 'localhost', port, family: 4, lookup: guardedLookup(allow) }, (res) => {
            res.resume();
            resolve(`HTTP ${res.statusCode}`);
          })
          .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      });
    try {
      expect(await get(false)).toBe('EPRIVATETARGET');
      expect(await get(true)).toBe('HTTP 200');
    } finally {
      server.close();
    }
  });
});
