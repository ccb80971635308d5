// `telemed load-test` as an operator runs it against a started installation: the built CLI, the
// benchmark bots, real RTP through the SFU; the summary's figures come from what the bots received.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type Platform } from '../platform.js';
import { telemed } from './telemed-cli.js';

describe('telemed load-test against a started platform', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('documents itself and refuses bad options with a usage error', async () => {
    const help = await telemed(['load-test', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--participants N');
    expect(help.stdout).toContain('ROOM_TOKEN_SECRET');
    const bad = await telemed(['load-test', '--rooms', 'two'], { ROOM_TOKEN_SECRET: platform.secrets.roomTokenSecret, MEDIA_PUBLIC_URL: platform.mediaWsUrl });
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--rooms must be a whole number');
    const noSecret = await telemed(['load-test', '--media-url', platform.mediaWsUrl]);
    expect(noSecret.code).toBe(64);
    expect(noSecret.stderr).toContain('ROOM_TOKEN_SECRET is required');
  });

  it('runs 1 room of 2 bots for a few seconds and reports real bitrate, loss and joins', async () => {
    const started = Date.now();
    const run = await telemed(
      ['load-test', '--media-url', platform.mediaWsUrl, '--rooms', '1', '--participants', '2', '--duration', '3', '--video-bitrate', '300000', '--json'],
      {
        ROOM_TOKEN_SECRET: platform.secrets.roomTokenSecret,
      },
    );
    console.log(`[load-test] ${((Date.now() - started) / 1000).toFixed(1)} s; stderr:\n${run.stderr}stdout: ${run.stdout}`);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      joinsOk: number;
      joinsFailed: number;
      receivedBitrateBps: number;
      receivedBitrateBpsPerBot: number;
      sentBitrateBps: number;
      receivedPackets: number;
      expectedPackets: number;
      lossRatio: number;
      durationSeconds: number;
    };
    expect(summary).toMatchObject({ joinsOk: 2, joinsFailed: 0 });
    expect(summary.durationSeconds).toBeGreaterThanOrEqual(3);
    // Each bot sends video and audio and receives the other's: the received total is what arrived,
    // so it is of the order of what was sent (more only by what was in flight when the window opened).
    expect(summary.receivedBitrateBps).toBeGreaterThan(100_000);
    expect(summary.receivedBitrateBps).toBeLessThanOrEqual(summary.sentBitrateBps * 1.5);
    expect(summary.receivedPackets).toBeGreaterThan(0);
    expect(summary.receivedPackets).toBeLessThanOrEqual(summary.expectedPackets * 1.5);
    expect(summary.lossRatio).toBeGreaterThanOrEqual(0);
    expect(summary.lossRatio).toBeLessThanOrEqual(1);
    // Progress while media flowed.
    expect(run.stderr).toMatch(/1 room\(s\) × 2 bots/);
    expect(run.stderr).toMatch(/\d+\.\d\/3 s: receiving \d+ kbit\/s/);
  });
});
