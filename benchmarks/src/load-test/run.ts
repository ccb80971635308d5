// `telemed load-test`: the bench:sfu bots against a running installation's media server. Every
// room holds `participants` bots that each publish synthetic VP8 + Opus and subscribe to everyone
// else (all-to-all, like a group call); after the joins, media flows for `durationSeconds` and the
// bots' own counters give the bitrate and loss. Tokens carry the loadTest grant (plain RTP
// transports), so they are signed here with the installation's ROOM_TOKEN_SECRET.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BOT_SIGNALING, roomToken, TestSignalingClient } from '@telemed/test-kit';
import { Bot, BotSide, type BotCounts } from '../sfu/bots.js';
import { DEFAULT_PROFILE } from '../sfu/rtp.js';
import { inBatches, Pacer, settledCounts } from '../sfu/scenario.js';
import { PlatformSession } from '../sfu/targets.js';

export interface LoadTestOptions {
  /** The media server's signaling URL (MEDIA_PUBLIC_URL, ws(s)://…/rtc). */
  mediaUrl: string;
  roomTokenSecret: string;
  rooms: number;
  /** Bots per room; each publishes and subscribes to the others. */
  participants: number;
  /** How long media flows once everyone joined. */
  durationSeconds: number;
  /** Each bot's video, bits per second (default 1.5 Mbit/s). */
  videoBitrate?: number;
  /** Room names are `<prefix>-<n>` (default `load-test-<random>`). */
  roomPrefix?: string;
  /** Called about every `progressEverySeconds` (default 1) while media flows. */
  onProgress?: (progress: LoadTestProgress) => void;
  progressEverySeconds?: number;
  /** Called once per bot that could not join. */
  onJoinError?: (identity: string, error: Error) => void;
}

export interface LoadTestProgress {
  elapsedSeconds: number;
  durationSeconds: number;
  /** Over the last progress interval, summed over every bot. */
  receivedBitrateBps: number;
  sentBitrateBps: number;
}

export interface LoadTestSummary {
  rooms: number;
  participantsPerRoom: number;
  joinsOk: number;
  joinsFailed: number;
  /** Seconds from the first connect to the last bot's consumers ready. */
  joinSeconds: number;
  durationSeconds: number;
  sentPackets: number;
  /** What the bots that joined should have received: every packet once per other bot in its room. */
  expectedPackets: number;
  receivedPackets: number;
  /** max(0, expected − received) / expected over the window. */
  lossRatio: number;
  /** Every bot's received media over the window, summed, and per bot. */
  receivedBitrateBps: number;
  receivedBitrateBpsPerBot: number;
  sentBitrateBps: number;
}

const sum = (counts: BotCounts[], key: keyof BotCounts): number => counts.reduce((n, c) => n + c[key], 0);

export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestSummary> {
  const { rooms, participants, durationSeconds } = options;
  const profile = { ...DEFAULT_PROFILE, ...(options.videoBitrate ? { videoBitrate: options.videoBitrate } : {}) };
  const prefix = options.roomPrefix ?? `load-test-${randomBytes(3).toString('hex')}`;
  const side = await BotSide.create();
  const bots: Bot[] = [];
  const roomOf = new Map<Bot, number>();
  let joinsFailed = 0;
  const started = performance.now();
  try {
    const seats = Array.from({ length: rooms * participants }, (_, i) => ({ room: Math.floor(i / participants), seat: i % participants }));
    await inBatches(seats, 8, async ({ room, seat }) => {
      const identity = `load-bot-${room}-${seat}`;
      let bot: Bot | undefined;
      try {
        const token = roomToken({ secret: options.roomTokenSecret, room: `${prefix}-${room}`, identity, grants: { loadTest: true } });
        bot = new Bot(side, identity, new PlatformSession(await TestSignalingClient.connect({ url: options.mediaUrl, token, ...BOT_SIGNALING })));
        await bot.start({ subscribe: true, profile });
        bots.push(bot);
        roomOf.set(bot, room);
      } catch (error) {
        joinsFailed++;
        await bot?.close().catch(() => undefined);
        options.onJoinError?.(identity, error instanceof Error ? error : new Error(String(error)));
      }
    });
    // Each bot gets a consumer per track of every other bot in its room that joined.
    const inRoom = (room: number): number => bots.filter((b) => roomOf.get(b) === room).length;
    const expectedConsumers = bots.reduce((n, b) => n + 2 * (inRoom(roomOf.get(b)!) - 1), 0);
    const deadline = Date.now() + 60_000;
    for (;;) {
      await Promise.all(bots.map((b) => b.settled()));
      if (bots.reduce((n, b) => n + b.consumers, 0) >= expectedConsumers || Date.now() > deadline) break;
      await sleep(50);
    }
    const joinSeconds = (performance.now() - started) / 1000;

    const pacer = new Pacer(bots);
    pacer.start();
    // The window opens once every bot receives media (its first keyframes are in), or after 10 s.
    const warmUpUntil = performance.now() + 10_000;
    while (performance.now() < warmUpUntil && (await Promise.all(bots.map((b) => b.counts()))).some((c) => c.received === 0)) await sleep(100);
    const before = await Promise.all(bots.map((b) => b.counts()));
    const windowStart = performance.now();
    let last = { at: windowStart, counts: before };
    const everyMs = (options.progressEverySeconds ?? 1) * 1000;
    while (performance.now() - windowStart < durationSeconds * 1000) {
      await sleep(Math.min(everyMs, durationSeconds * 1000 - (performance.now() - windowStart)));
      const counts = await Promise.all(bots.map((b) => b.counts()));
      const now = performance.now();
      const seconds = (now - last.at) / 1000;
      options.onProgress?.({
        elapsedSeconds: (now - windowStart) / 1000,
        durationSeconds,
        receivedBitrateBps: seconds > 0 ? ((sum(counts, 'receivedBytes') - sum(last.counts, 'receivedBytes')) * 8) / seconds : 0,
        sentBitrateBps: seconds > 0 ? ((sum(counts, 'sentBytes') - sum(last.counts, 'sentBytes')) * 8) / seconds : 0,
      });
      last = { at: now, counts };
    }
    pacer.stop();
    const windowSeconds = (performance.now() - windowStart) / 1000;
    const after = await settledCounts(bots);
    let sent = 0;
    let expected = 0;
    bots.forEach((bot, i) => {
      const packets = after[i]!.sentVideo + after[i]!.sentAudio - before[i]!.sentVideo - before[i]!.sentAudio;
      sent += packets;
      expected += packets * (inRoom(roomOf.get(bot)!) - 1);
    });
    const received = sum(after, 'received') - sum(before, 'received');
    const receivedBitrate = ((sum(after, 'receivedBytes') - sum(before, 'receivedBytes')) * 8) / windowSeconds;
    return {
      rooms,
      participantsPerRoom: participants,
      joinsOk: bots.length,
      joinsFailed,
      joinSeconds,
      durationSeconds: windowSeconds,
      sentPackets: sent,
      expectedPackets: expected,
      receivedPackets: received,
      lossRatio: expected > 0 ? Math.max(0, expected - received) / expected : 0,
      receivedBitrateBps: receivedBitrate,
      receivedBitrateBpsPerBot: bots.length > 0 ? receivedBitrate / bots.length : 0,
      sentBitrateBps: ((sum(after, 'sentBytes') - sum(before, 'sentBytes')) * 8) / windowSeconds,
    };
  } finally {
    await inBatches(bots, 16, (b) => b.close().catch(() => undefined));
    side.close();
  }
}
