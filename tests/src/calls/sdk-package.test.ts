// The SDK as a published package: minified bundles within a size budget, a deliberate package
// surface, and the embedding example (one HTML page + the self-contained bundle) calling through
// the real SFU.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSERS, launchBrowser, type TestBrowser, type TestPage } from '../browser.js';

import { startTestPlatform } from '../platform.js';
import { joinPage, roomToken, waitForFreshMedia, type TestPlatform } from './harness.js';
import { waitFor } from '@telemed/test-kit';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SDK = path.join(ROOT, 'sdk');

/** Bytes, minified and gzipped: what an app pays for the SDK. */
const BUDGET = {
  'telemed-sdk.mjs': { raw: 80_000, gzip: 24_000 },
  'telemed-sdk.browser.mjs': { raw: 360_000, gzip: 72_000 },
} as const;

describe('the @telemed/sdk package', () => {
  it('ships minified ESM bundles within the size budget', () => {
    for (const [file, budget] of Object.entries(BUDGET)) {
      const bytes = fs.readFileSync(path.join(SDK, 'dist', file));
      const gzip = gzipSync(bytes, { level: 9 }).length;
      console.log(`[sdk] ${file}: ${bytes.length} bytes minified, ${gzip} bytes gzipped (budget ${budget.raw} / ${budget.gzip})`);
      expect(bytes.length).toBeLessThanOrEqual(budget.raw);
      expect(gzip).toBeLessThanOrEqual(budget.gzip);
      // Minified: no indentation, few lines.
      expect(bytes.toString('utf8').split('\n').length).toBeLessThan(20);
    }
  });

  it('declares no side effects, types for every entry, and pins mediasoup-client', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(SDK, 'package.json'), 'utf8')) as {
      sideEffects: boolean; types: string; dependencies: Record<string, string>; exports: Record<string, string | { types?: string; import?: string }>;
    };
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.dependencies['mediasoup-client']).toBe('3.24.1');
    expect(fs.existsSync(path.join(SDK, pkg.types))).toBe(true);
    for (const [entry, target] of Object.entries(pkg.exports)) {
      const files = typeof target === 'string' ? [target] : [target.types, target.import].filter((f): f is string => !!f);
      for (const file of files) expect(fs.existsSync(path.join(SDK, file)), `${entry} → ${file}`).toBe(true);
    }
  });
});

describe.each(BROWSERS)('the embedding example in %s', (browserName) => {
  const ROOM = `dev-embed-${browserName}`;
  let platform: TestPlatform;
  let browser: TestBrowser;
  let site: http.Server;
  let siteUrl: string;
  let host: TestPage;
  let embedded: TestPage;

  beforeAll(async () => {
    // A third-party site: the example page with the published bundle beside it.
    const files: Record<string, [string, string]> = {
      '/embed.html': [path.join(ROOT, 'demo-app', 'public', 'dev', 'embed.html'), 'text/html'],
      '/device-check.html': [path.join(ROOT, 'demo-app', 'public', 'dev', 'device-check.html'), 'text/html'],
      '/telemed-sdk.browser.mjs': [path.join(SDK, 'dist', 'telemed-sdk.browser.mjs'), 'text/javascript'],
    };
    site = http.createServer((req, res) => {
      const file = files[new URL(req.url ?? '/', 'http://x').pathname];
      if (!file) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': file[1] }).end(fs.readFileSync(file[0]));
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
    [platform, browser] = await Promise.all([startTestPlatform() as Promise<TestPlatform>, launchBrowser(browserName)]);
    host = await joinPage(browser, platform, ROOM, 'host', { params: { res: '640x360' } });
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await new Promise((resolve) => site?.close(resolve));
  });

  it('joins with a token and exchanges video with a call page participant', async () => {
    const query = new URLSearchParams({ url: platform.mediaWsUrl, token: roomToken(platform, ROOM, 'guest') });
    embedded = await browser.newPage(`${siteUrl}/embed.html?${query.toString()}`);
    const frames = await waitFor('the embedded page decoding the host\'s video', () => embedded.evaluate(async () => {
      interface Embedded { room: { remoteParticipants: Map<string, { identity: string; tracks: { kind: string; getStats(): Promise<RTCStatsReport> }[] }> } }
      const { room } = (window as unknown as { embedded: Embedded }).embedded;
      let decoded = 0;
      for (const participant of room.remoteParticipants.values()) {
        for (const track of participant.tracks) {
          if (track.kind !== 'video') continue;
          (await track.getStats()).forEach((s: Record<string, unknown>) => {
            if (s.type === 'inbound-rtp') decoded += Number(s.framesDecoded ?? 0);
          });
        }
      }
      return decoded > 10 ? decoded : undefined;
    }), { timeoutMs: 30_000 });
    expect(frames).toBeGreaterThan(10);
    expect(await embedded.text('#status')).toBe('connected');
    await waitForFreshMedia(host, ['guest'], 30_000);
  });

  it('the pre-call device check shows the camera, measures the microphone and plays a test tone', async () => {
    const check = await browser.newPage(`${siteUrl}/device-check.html`);
    await check.click('#start');
    await waitFor('the device check ready', () => check.evaluate(() => {
      const r = (window as unknown as { deviceCheck: { ready: boolean; error?: unknown } }).deviceCheck;
      if (r.error) throw new Error(JSON.stringify(r.error));
      return r.ready ? true : undefined;
    }), { timeoutMs: 15_000 });
    // Firefox's fake microphone reaches Web Audio as silence here (it does carry energy over
    // WebRTC), so only Chromium's level can be required to move.
    const needLevel = browserName === 'chromium';
    await waitFor('camera preview frames and a microphone level', () => check.evaluate((level) => {
      const video = document.getElementById('preview') as HTMLVideoElement;
      const r = (window as unknown as { deviceCheck: { maxLevel: number } }).deviceCheck;
      return video.videoWidth > 0 && (!level || r.maxLevel > 0) ? true : undefined;
    }, needLevel), { timeoutMs: 15_000 });
    await check.click('#speaker');
    const result = await waitFor('the speaker test', () => check.evaluate(() => {
      const r = (window as unknown as { deviceCheck: { speakerTested: boolean; cameras: number; microphones: number; maxLevel: number } }).deviceCheck;
      return r.speakerTested ? r : undefined;
    }), { timeoutMs: 10_000 });
    console.log(`[sdk] device check: ${result.cameras} camera(s), ${result.microphones} microphone(s), peak microphone level ${result.maxLevel.toFixed(2)}`);
    expect(result.cameras).toBeGreaterThan(0);
    expect(await check.text('#status')).toBe('Camera and microphone work');
    expect(check.errors).toEqual([]);
    await check.close();
  });

  it('ran without page errors', () => {
    expect(embedded.errors).toEqual([]);
    expect(host.errors).toEqual([]);
  });
});
