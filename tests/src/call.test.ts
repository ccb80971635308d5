// The first call: two people in real Chromium talking through the real SFU, and tokens that must
// be refused.
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, type RoomStatsInfo } from '@telemed/sdk/protocol';
import { WebSocket } from 'ws';
import { BROWSERS, launchBrowser, type TestBrowser, type TestPage } from './browser.js';
import { inboundStats, type InboundSample } from './call-stats.js';
import { startTestPlatform, type Platform } from './platform.js';
import { waitFor } from '@telemed/test-kit';

describe.each(BROWSERS)('a two-person call through the SFU in %s', (browserName) => {
  const ROOM = `dev-first-call-${browserName}`;
  let platform: Platform & { serverErrors: string[] };
  let browser: TestBrowser;
  const pages: TestPage[] = [];

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform() as Promise<Platform & { serverErrors: string[] }>, launchBrowser(browserName)]);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  async function roomStats(): Promise<RoomStatsInfo> {
    const res = await fetch(`${platform.mediaHttpUrl}/rooms/${ROOM}/stats`, { headers: { authorization: `Bearer ${platform.secrets.serviceSecret}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as RoomStatsInfo;
  }

  /** Each page must receive the other's audio and video. */
  function complete(samples: InboundSample[], other: string): boolean {
    const video = samples.find((s) => s.from === other && s.kind === 'video');
    const audio = samples.find((s) => s.from === other && s.kind === 'audio');
    return !!video && video.framesDecoded > 0 && !!audio && audio.bytesReceived > 0;
  }

  it("each page decodes the other's video and receives its audio", async () => {
    const url = (name: string): string => `${platform.apiUrl}/dev/call.html?room=${ROOM}&name=${name}&autojoin=1`;
    pages.push(await browser.newPage(url('alice')), await browser.newPage(url('bob')));
    const [alice, bob] = pages as [TestPage, TestPage];

    const first = await waitFor(
      'both pages receiving media',
      async () => {
        const [a, b] = await Promise.all([inboundStats(alice), inboundStats(bob)]);
        return complete(a, 'bob') && complete(b, 'alice') ? { a, b } : undefined;
      },
      { timeoutMs: 30_000 },
    );
    // Media must keep flowing: 10 more frames and more audio each way. A deadline, not a fixed
    // window: under CPU load a sender's adaptation can stall one direction for a few seconds.
    const started = Date.now();
    const pairs = [
      [first.a, alice, 'bob'],
      [first.b, bob, 'alice'],
    ] as const;
    for (const [before, page, other] of pairs) {
      const v1 = before.find((s) => s.from === other && s.kind === 'video')!;
      const au1 = before.find((s) => s.from === other && s.kind === 'audio')!;
      const after = await waitFor(
        `more frames and audio from ${other}`,
        async () => {
          const now = await inboundStats(page);
          const v2 = now.find((s) => s.from === other && s.kind === 'video');
          const au2 = now.find((s) => s.from === other && s.kind === 'audio');
          return v2 && au2 && v2.framesDecoded > v1.framesDecoded + 10 && au2.bytesReceived > au1.bytesReceived ? { v2, au2 } : undefined;
        },
        { timeoutMs: 20_000 },
      );
      console.log(
        `[call] from ${other}: framesDecoded ${v1.framesDecoded} → ${after.v2.framesDecoded}, audio bytesReceived ${au1.bytesReceived} → ${after.au2.bytesReceived}, ${Date.now() - started} ms after both first received`,
      );
    }
  });

  it('the server reports per-consumer stats for both participants', async () => {
    let last: RoomStatsInfo | undefined;
    const stats = await waitFor(
      'consumer scores and bitrates',
      async () => {
        last = await roomStats();
        const ready = last.consumers.length === 4 && last.consumers.every((c) => c.score > 0 && c.bitrate > 0 && c.packetCount > 0);
        return ready ? last : undefined;
      },
      {
        timeoutMs: 15_000,
        lastSeen: () =>
          JSON.stringify(last?.consumers.map((c) => ({ kind: c.kind, score: c.score, bitrate: c.bitrate, packets: c.packetCount, paused: c.paused }))),
      },
    );
    expect(stats.participants).toBe(2);
    const subscribers = new Set(stats.consumers.map((c) => c.participantId));
    expect(subscribers.size).toBe(2);
    for (const consumer of stats.consumers) {
      console.log(
        `[call] consumer ${consumer.kind} for ${consumer.participantId.slice(0, 8)}: score ${consumer.score}, ${consumer.bitrate} bps, ${consumer.packetCount} packets, ${consumer.packetsLost} lost`,
      );
      expect(consumer.byteCount).toBeGreaterThan(0);
      expect(consumer.paused).toBe(false);
    }
    const cameras = stats.producers.filter((p) => p.source === 'camera');
    expect(cameras).toHaveLength(2);
    for (const camera of cameras) {
      // Simulcast: the lowest layer always flows; Chromium drops the upper ones when CPU-limited.
      console.log(`[call] camera producer layers flowing: ${camera.rids.sort().join(', ')}`);
      expect(camera.rids).toContain('r0');
      for (const rid of camera.rids) expect(['r0', 'r1', 'r2']).toContain(rid);
    }
  });

  it('refuses missing, forged and expired tokens with a clear error', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { room: ROOM, grants: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: false } };
    const forged = jwt.sign(claims, 'not-the-secret-not-the-secret', { subject: 'mallory', issuer: 'telemed-api', audience: 'telemed-media', expiresIn: 600 });
    const expired = jwt.sign({ ...claims, iat: now - 600, exp: now - 60 }, platform.secrets.roomTokenSecret, {
      subject: 'mallory',
      issuer: 'telemed-api',
      audience: 'telemed-media',
    });
    const cases = [
      { token: forged, code: 'UNAUTHORIZED' },
      { token: expired, code: 'TOKEN_EXPIRED' },
      { token: 'not-a-jwt', code: 'UNAUTHORIZED' },
    ];
    for (const { token, code } of cases) {
      const url = `${platform.apiUrl}/dev/call.html?room=${ROOM}&name=mallory&autojoin=1&url=${encodeURIComponent(platform.mediaWsUrl)}&token=${encodeURIComponent(token)}`;
      const intruder = await browser.newPage(url);
      const error = await waitFor(`the join to fail with ${code}`, () => intruder.evaluate(() => window.telemed.error), { timeoutMs: 20_000 });
      expect(error.code).toBe(code);
      expect(await intruder.text('#status')).toContain('Could not join');
      await intruder.close();
    }
    // No token at all: the socket is closed with 4401 UNAUTHORIZED.
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      const socket = new WebSocket(platform.mediaWsUrl);
      socket.on('close', (closeCode, reason) => resolve({ code: closeCode, reason: reason.toString() }));
    });
    expect(closed).toEqual({ code: CloseCode.Unauthorized, reason: 'UNAUTHORIZED' });
    const stats = await roomStats();
    expect(stats.participants).toBe(2);
  });

  it('ran without page or server errors', () => {
    for (const page of pages) expect(page.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });
});
