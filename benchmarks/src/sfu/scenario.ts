// One load point: bots join, media flows, and a measured window counts what was sent and what
// arrived, with the SFU workers' CPU and memory over the same window.
import { setTimeout as sleep } from 'node:timers/promises';
import { CpuMeter, rssBytes, udpReceiveBufferErrors, udpSocketDrops } from '../common/proc.js';
import { log } from '../common/results.js';
import { round } from '../common/stats.js';
import { Bot, type BotCounts, type BotSide } from './bots.js';
import type { StreamProfile } from './rtp.js';
import type { BareTarget, SfuTarget } from './targets.js';
import { waitFor } from '@telemed/test-kit';

export interface Scenario {
  id: string;
  /** Plot group: 1→N broadcast, all-to-all rooms, a broadcast spread over workers, or over two media nodes. */
  group: 'broadcast' | 'all-to-all' | 'spread' | 'cross-node';
  rooms: number;
  /** Participants that publish (and, in all-to-all rooms, subscribe). */
  publishersPerRoom: number;
  /** Participants that only subscribe. */
  subscribersPerRoom: number;
  /** Bare harness only: one router per worker, joined by pipeToRouter. */
  spread?: boolean;
}

export interface PointResult {
  target: string;
  scenario: string;
  group: Scenario['group'];
  bots: number;
  /** Consumers (tracks forwarded) on the SFU. */
  consumers: number;
  durationS: number;
  sentPackets: number;
  expectedPackets: number;
  receivedPackets: number;
  /** Packets per second leaving the SFU that reached a subscriber bot. */
  outPps: number;
  deliveredRatio: number;
  /**
   * Packets that never arrived, over those expected: max(0, 1 - delivered). Subscribers ask for no
   * retransmissions, so nothing arrives twice. (mediasoup's receiver-side `packetsLost` is kept in
   * `receiverReportedLost` for reference only: it is updated when a receiver report is built, not
   * at the window's edges.)
   */
  lossRatio: number;
  receiverReportedLost: number;
  /**
   * Loss the kernel's receive-buffer drops do not explain: a datagram dropped at an SFU socket (from
   * a publisher) costs every subscriber of that stream, one dropped at a bot socket costs one:
   * max(0, expected - received - sfuSocketDrops × fan-out - botSocketDrops) / expected.
   */
  unexplainedLossRatio: number;
  /** Attempts made at this point (a point disturbed by kernel drops is measured again, see main.ts). */
  attempts?: number;
  /** Cross-node group: which of the interleaved same-node/cross-node rounds (0-based). */
  round?: number;
  /** UDP datagrams the kernel dropped for full receive buffers during the window (machine-wide). */
  udpRcvbufErrors: number;
  /** Of those, datagrams dropped at the SFU workers' sockets (media from publishers) and at the bot worker's (media to subscribers). */
  sfuSocketDrops: number;
  botSocketDrops: number;
  /** CPU of the SFU's mediasoup workers, in cores (1 = one core busy), summed and per worker. */
  sfuWorkerCpu: number;
  sfuWorkerCpuEach: number[];
  /** outPps / sfuWorkerCpu: packets out per second per fully busy worker core. */
  outPpsPerWorkerCore: number;
  /** CPU of the media server's Node process (platform only), in cores. */
  controlCpu: number;
  botWorkerCpu: number;
  benchProcessCpu: number;
  sfuWorkerRssMiB: number;
  controlRssMiB: number;
}

export function consumersOf(s: Scenario): number {
  const perPublisher = s.publishersPerRoom - 1 + s.subscribersPerRoom;
  return s.rooms * s.publishersPerRoom * perPublisher * 2;
}

/**
 * Sends every publisher's frames on time (video at 30 fps, audio every 20 ms), each publisher at its
 * own phase within the frame interval, as independent browsers would: all publishers' frames at
 * the same instant would make bursts no real room produces (and overflow UDP receive buffers).
 */
export class Pacer {
  readonly #publishers: { bot: Bot; phase: number; video: number; audio: number }[];
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;

  constructor(publishers: Bot[]) {
    this.#publishers = publishers.map((bot, i) => ({ bot, phase: i / Math.max(1, publishers.length), video: 0, audio: 0 }));
  }

  /** A publisher joining while the pacer runs: it sends from now on, at the next phase. */
  add(bot: Bot): void {
    const elapsed = this.#startedAt ? performance.now() - this.#startedAt : 0;
    const phase = (this.#publishers.length * 0.618) % 1;
    this.#publishers.push({ bot, phase, video: Math.ceil(elapsed / VIDEO_FRAME_MS), audio: Math.ceil(elapsed / AUDIO_FRAME_MS) });
  }

  /** A publisher that left. */
  remove(bot: Bot): void {
    const i = this.#publishers.findIndex((p) => p.bot === bot);
    if (i >= 0) this.#publishers.splice(i, 1);
  }

  start(): void {
    this.#startedAt = performance.now();
    for (const p of this.#publishers) {
      p.video = 0;
      p.audio = 0;
    }
    this.#timer = setInterval(() => this.#tick(), 2);
  }

  #tick(): void {
    const elapsed = performance.now() - this.#startedAt;
    for (const p of this.#publishers) {
      while (p.video <= (elapsed - p.phase * VIDEO_FRAME_MS) / VIDEO_FRAME_MS) {
        p.bot.sendVideoFrame();
        p.video++;
      }
      while (p.audio <= (elapsed - p.phase * AUDIO_FRAME_MS) / AUDIO_FRAME_MS) {
        p.bot.sendAudioFrame();
        p.audio++;
      }
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

const VIDEO_FRAME_MS = 1000 / 30;
const AUDIO_FRAME_MS = 20;

export async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/**
 * Every bot's counts once nothing is in flight any more: on a loaded machine the workers can lag
 * well behind the sender, so wait until two reads 250 ms apart agree (at most 5 s).
 */
export async function settledCounts(bots: Bot[]): Promise<BotCounts[]> {
  let last = await Promise.all(bots.map((b) => b.counts()));
  for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
    await sleep(250);
    const now = await Promise.all(bots.map((b) => b.counts()));
    const same = now.every((c, i) => c.received === last[i]?.received);
    last = now;
    if (same) break;
  }
  return last;
}

export async function runPoint(options: {
  target: SfuTarget;
  side: BotSide;
  scenario: Scenario;
  profile: StreamProfile;
  durationMs: number;
  warmupMs: number;
  nonce: string;
}): Promise<PointResult> {
  const { target, side, scenario, profile, durationMs, warmupMs, nonce } = options;
  const expectedConsumers = consumersOf(scenario);
  const bots: Bot[] = [];
  const publishers: Bot[] = [];
  const fanout = new Map<Bot, number>();
  const started = performance.now();
  try {
    for (let r = 0; r < scenario.rooms; r++) {
      const roomId = `${scenario.id}-${nonce}-room${r}`;
      const connect = async (identity: string): Promise<Bot> => {
        const session =
          target.name === 'bare' ? await (target as BareTarget).connect(roomId, identity, scenario.spread ?? false) : await target.connect(roomId, identity);
        const bot = new Bot(side, identity, session);
        bots.push(bot);
        return bot;
      };
      const roomPublishers: Bot[] = [];
      for (let p = 0; p < scenario.publishersPerRoom; p++) {
        const bot = await connect(`pub-${r}-${p}`);
        await bot.start({ subscribe: scenario.publishersPerRoom > 1, profile });
        roomPublishers.push(bot);
        fanout.set(bot, scenario.publishersPerRoom - 1 + scenario.subscribersPerRoom);
      }
      publishers.push(...roomPublishers);
      const subscriberIds = Array.from({ length: scenario.subscribersPerRoom }, (_, s) => `sub-${r}-${s}`);
      await inBatches(subscriberIds, 8, async (identity) => (await connect(identity)).start({ subscribe: true }));
    }
    await waitFor(
      `${expectedConsumers} consumers`,
      async () => {
        await Promise.all(bots.map((b) => b.settled()));
        return bots.reduce((n, b) => n + b.consumers, 0) >= expectedConsumers ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    log(`  ${target.name} ${scenario.id}: ${bots.length} bots, ${expectedConsumers} consumers ready in ${round((performance.now() - started) / 1000, 1)} s`);

    const pacer = new Pacer(publishers);
    pacer.start();
    await sleep(warmupMs); // keyframes reach every subscriber; streams settle
    pacer.stop();
    const before = await settledCounts(bots);
    const workerPids = target.workerPids();
    const controlPids = target.controlPids();
    const meter = new CpuMeter([...workerPids, ...controlPids, side.worker.pid, process.pid]);
    const rcvbufErrorsBefore = udpReceiveBufferErrors();
    const socketDropsBefore = udpSocketDrops([...workerPids, side.worker.pid]);
    meter.start();
    pacer.start();
    await sleep(durationMs);
    pacer.stop();
    const cpu = meter.stop();
    const after = await settledCounts(bots);
    const rcvbufErrors = udpReceiveBufferErrors() - rcvbufErrorsBefore;
    const socketDrops = udpSocketDrops([...workerPids, side.worker.pid]).map((d, i) => d - (socketDropsBefore[i] ?? 0));

    let sent = 0;
    let expected = 0;
    let received = 0;
    let lost = 0;
    bots.forEach((bot, i) => {
      const a = after[i];
      const b = before[i];
      if (!a || !b) return;
      const botSent = a.sentVideo - b.sentVideo + (a.sentAudio - b.sentAudio);
      sent += botSent;
      expected += botSent * (fanout.get(bot) ?? 0);
      received += a.received - b.received;
      lost += a.lost - b.lost;
    });
    const durationS = durationMs / 1000;
    const sfuCpuEach = cpu.slice(0, workerPids.length);
    const sfuCpu = sfuCpuEach.reduce((x, y) => x + y, 0);
    const controlCpu = cpu.slice(workerPids.length, workerPids.length + controlPids.length).reduce((x, y) => x + y, 0);
    const outPps = received / durationS;
    const result: PointResult = {
      target: target.name,
      scenario: scenario.id,
      group: scenario.group,
      bots: bots.length,
      consumers: expectedConsumers,
      durationS,
      sentPackets: sent,
      expectedPackets: expected,
      receivedPackets: received,
      outPps: Math.round(outPps),
      deliveredRatio: round(expected > 0 ? received / expected : 0, 4),
      lossRatio: round(expected > 0 ? Math.max(0, expected - received) / expected : 0, 5),
      receiverReportedLost: lost,
      unexplainedLossRatio: 0,
      udpRcvbufErrors: rcvbufErrors,
      sfuSocketDrops: socketDrops.slice(0, workerPids.length).reduce((a, b) => a + b, 0),
      botSocketDrops: socketDrops[socketDrops.length - 1] ?? 0,
      sfuWorkerCpu: round(sfuCpu, 3),
      sfuWorkerCpuEach: sfuCpuEach.map((c) => round(c, 3)),
      outPpsPerWorkerCore: Math.round(sfuCpu > 0 ? outPps / sfuCpu : 0),
      controlCpu: round(controlCpu, 3),
      botWorkerCpu: round(cpu[cpu.length - 2] ?? 0, 3),
      benchProcessCpu: round(cpu[cpu.length - 1] ?? 0, 3),
      sfuWorkerRssMiB: round(workerPids.reduce((n, pid) => n + rssBytes(pid), 0) / 2 ** 20, 1),
      controlRssMiB: round(controlPids.reduce((n, pid) => n + rssBytes(pid), 0) / 2 ** 20, 1),
    };
    const fanoutPerPublisher = scenario.publishersPerRoom - 1 + scenario.subscribersPerRoom;
    const explained = result.sfuSocketDrops * fanoutPerPublisher + result.botSocketDrops;
    result.unexplainedLossRatio = round(expected > 0 ? Math.max(0, expected - received - explained) / expected : 0, 5);
    log(
      `  ${target.name} ${scenario.id}: out ${result.outPps} pkt/s, delivered ${result.deliveredRatio}, loss ${result.lossRatio} (kernel UDP buffer drops ${rcvbufErrors}: SFU sockets ${result.sfuSocketDrops}, bot sockets ${result.botSocketDrops}), SFU workers ${result.sfuWorkerCpu} cores → ${result.outPpsPerWorkerCore} pkt/s per core`,
    );
    return result;
  } finally {
    await inBatches(bots, 16, (b) => b.close());
    if (target.name === 'bare') (target as BareTarget).closeEmptyRooms();
  }
}
