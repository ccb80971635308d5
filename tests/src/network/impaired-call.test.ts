// A call on real bad networks: a Chromium page and a Firefox page, each browser in a network
// namespace of its own whose link to the SFU is shaped per direction (testbed.ts), in a real call
// through the API and media server (Alice in Chromium, Dr. Grey in Firefox). The profiles change
// during one call, so the set-up is paid once; at the end the admin's call page shows the episodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumerStatsInfo, ProducerStatsInfo } from '@telemed/sdk/protocol';
import { launchBrowser, type BrowserName, type TestBrowser, type TestPage } from '../browser.js';
import { startTestPlatform } from '../platform.js';
import { joinPage, renderRemoteCamera, roomStats, waitForFreshMedia, type TestPlatform } from '../calls/harness.js';
import { startDemoCall } from '../calls/demo-call.js';
import { signInAdmin } from '../apps/fixture.js';
import { fill, waitForSelector } from '../apps/app-page.js';
import { waitFor } from '@telemed/test-kit';
import { createTestBed, type Impairment, type Namespace, type TestBed } from './testbed.js';
import { audioLossRatio, audioSeconds, concealedRatio, linkSnapshot, videoFps, videoSendKbps, type LinkSnapshot } from './link-stats.js';

const ENGINES: BrowserName[] = ['chromium', 'firefox'];

interface Party {
  engine: BrowserName;
  ns: Namespace;
  browser: TestBrowser;
  page: TestPage;
  /** The participant's id on the SFU (its stats name it). */
  sid: string;
  /** The participant's identity in the room: their user id. */
  identity: string;
  name: string;
}

/** When a party's link lost 10 % each way (epoch ms). */
interface LossEpisode {
  bad: BrowserName;
  from: number;
  to: number;
}

describe('calls on impaired links (Chromium and Firefox, each in its own network namespace)', () => {
  let bed: TestBed;
  let platform: TestPlatform;
  /** The call's id, which is its room's name. */
  let room: string;
  const episodes: LossEpisode[] = [];
  const parties = {} as Record<BrowserName, Party>;
  /** Every browser launched, closed even when joining failed. */
  let launched: TestBrowser[] = [];
  const started = Date.now();
  const other = (engine: BrowserName): Party => parties[engine === 'chromium' ? 'firefox' : 'chromium'];

  beforeAll(async () => {
    bed = await createTestBed();
    const namespaces = await Promise.all(ENGINES.map(() => bed.addNamespace()));
    // The platform listens on the bed's bridge, the only address the namespaces reach. Stats every
    // second (default 5 s): the layer and retransmission checks poll them.
    // At load average 40 the API took 165 s to answer /health (PGlite migrations): a deadline for a hang.
    platform = (await startTestPlatform({
      host: bed.hostIp,
      apiEnv: { SEED_DEMO: 'true' },
      mediaEnv: { MEDIA_RTC_LISTEN_IP: bed.hostIp, MEDIA_STATS_INTERVAL_MS: '1000' },
      startTimeoutMs: 400_000,
    })) as TestPlatform;
    // Not loopback, so not a secure context by itself: the browsers are told to treat it as one.
    const browsers = await Promise.all(
      ENGINES.map((engine, i) => launchBrowser(engine, { netns: namespaces[i]!.name, headless: true, secureOrigins: [platform.apiUrl] })),
    );
    launched = browsers;
    // Alice rings Dr. Grey, who answers: both join with the room tokens the API gave them.
    const call = await startDemoCall(platform.apiUrl);
    room = call.call.id;
    const joiners = {
      chromium: { user: call.alice.user!, access: call.aliceAccess },
      firefox: { user: call.grey.user!, access: call.greyAccess },
    };
    for (const [i, engine] of ENGINES.entries()) {
      const { user, access } = joiners[engine];
      const page = await joinPage(browsers[i]!, platform, room, user.displayName, { params: { token: access.token, url: access.url } });
      const sid = await page.evaluate(() => window.telemed.room.localParticipant.sid);
      parties[engine] = { engine, ns: namespaces[i]!, browser: browsers[i]!, page, sid, identity: user.id, name: user.displayName };
    }
    // Both render the other's camera large: the subscriber asks for the top layer, so any lower
    // layer the SFU forwards comes from its bandwidth estimate, not from the element's size.
    await Promise.all(ENGINES.map((engine) => waitForFreshMedia(parties[engine].page, [other(engine).identity], 60_000)));
    for (const engine of ENGINES) {
      await parties[engine].page.setViewport(1400, 900);
      await renderRemoteCamera(parties[engine].page, { width: 1280, height: 720 });
    }
    console.log(`[impair] set-up (bed, platform, 2 browsers in namespaces, call joined) took ${Math.round((Date.now() - started) / 1000)} s`);
  }, 600_000);

  afterAll(async () => {
    await Promise.all(launched.map((browser) => browser.close()));
    await platform?.stop();
    await bed?.close();
    console.log(`[impair] file wall time ${Math.round((Date.now() - started) / 1000)} s`);
  });

  const snapshots = (): Promise<Record<BrowserName, LinkSnapshot>> =>
    Promise.all(ENGINES.map((engine) => linkSnapshot(parties[engine].page))).then(([c, f]) => ({ chromium: c!, firefox: f! }));

  const impair = (impairments: Partial<Record<BrowserName, Impairment>>): Promise<void> =>
    Promise.all(ENGINES.map((engine) => parties[engine].ns.impair(impairments[engine] ?? {}))).then(() => undefined);

  /** Waits until every page has received at least `seconds` of audio since `from`. */
  async function audioFor(from: Record<BrowserName, LinkSnapshot>, seconds: number, what: string): Promise<Record<BrowserName, LinkSnapshot>> {
    return waitFor(
      `${seconds} s of audio received on both pages (${what})`,
      async () => {
        const now = await snapshots();
        return ENGINES.every((engine) => audioSeconds(from[engine], now[engine]) >= seconds) ? now : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
  }

  const producer = async (engine: BrowserName, kind: 'audio' | 'video'): Promise<ProducerStatsInfo | undefined> =>
    (await roomStats(platform, room)).producers.find(
      (p) => p.participantId === parties[engine].sid && p.kind === kind && (kind === 'audio' || p.source === 'camera'),
    );
  /** The SFU's consumer that carries the other party's camera to `engine`. */
  const cameraConsumer = async (engine: BrowserName): Promise<ConsumerStatsInfo | undefined> => {
    const stats = await roomStats(platform, room);
    const camera = stats.producers.find((p) => p.participantId === other(engine).sid && p.source === 'camera');
    return stats.consumers.find((c) => c.participantId === parties[engine].sid && c.producerId === camera?.producerId);
  };

  it('negotiates Opus with in-band FEC and DTX on both browsers', async () => {
    const now = await snapshots();
    for (const engine of ENGINES) {
      console.log(`[impair] ${engine} sends Opus with "${now[engine].audioOutFmtp}"`);
      expect(now[engine].audioOutFmtp).toMatch(/useinbandfec=1/);
      expect(now[engine].audioOutFmtp).toMatch(/usedtx=1/);
    }
  });

  /** Retransmission counters of both ends for each engine's camera: what it resent, and what the SFU got and resent to it. */
  async function retransmissions(): Promise<Record<BrowserName, { sent: number | null; serverReceived: number; serverSent: number }>> {
    const now = await snapshots();
    const entries = await Promise.all(
      ENGINES.map(
        async (engine) =>
          [
            engine,
            {
              sent: now[engine].videoOut.retransmittedPacketsSent,
              serverReceived: (await producer(engine, 'video'))?.packetsRetransmitted ?? 0,
              serverSent: (await cameraConsumer(engine))?.packetsRetransmitted ?? 0,
            },
          ] as const,
      ),
    );
    return Object.fromEntries(entries) as Record<BrowserName, { sent: number | null; serverReceived: number; serverSent: number }>;
  }

  /**
   * Concealment on the clean link in this run, per engine, before any profile: jitter-buffer
   * underruns that come from the machine's own load, not from the network (a CPU hog beside the
   * suite raises it). Each bound below adds it, so a loaded machine does not read as a bad network.
   */
  const cleanConcealed = {} as Record<BrowserName, number>;

  /**
   * The bound on concealed audio. concealedSamples counts the samples the receiver's jitter buffer
   * synthesised because the packet carrying them was missing at playout (silent concealment, as in
   * DTX pauses, excluded); with Opus at 20 ms per packet each lost packet that neither in-band FEC
   * (the next packet's low-bitrate copy) nor a retransmission recovers conceals 960 of 48 000
   * samples per second. So with no recovery at all the ratio is about the path's packet loss: the
   * profile's nominal loss or, when netem drew more in this window, the loss the receiver counted
   * (packetsLost). Chromium's NetEq conceals more than a lost packet's own 20 ms: a loss that meets
   * the jitter buffer at its floor runs an expansion until the buffer refills. Measured, concealment
   * above the clean link per point of loss: 1.55 idle (9.8 % at 5.7 % loss, clean 1.0 %), 1.68 in a
   * CI run (11.1 % at 5.9 %, clean 1.2 %), 1.87 beside a core-hog (15.6 % at 6.1 %, clean 4.3 %);
   * Firefox 0.2-0.3. The bound allows twice the loss, plus this run's clean-link concealment, plus 5
   * points for underruns that vary between windows on a loaded machine (beside a core-hog, windows
   * without network loss measured 0-3.7 % for Chromium). Audio that stalls conceals nearly
   * everything and fails it at any of these losses.
   */
  const concealedBound = (engine: BrowserName, nominalPathLoss: number, before: LinkSnapshot, after: LinkSnapshot): number =>
    2 * Math.max(nominalPathLoss, audioLossRatio(before, after)) + cleanConcealed[engine] + 0.05;

  /** Video frames each page decoded per second on the clean link in this run (the machine's own rate). */
  const cleanFps = {} as Record<BrowserName, number>;

  /**
   * Waits until both pages decode the other's camera at 70 % of their clean-link frame rate or more
   * over a 2 s window: the senders' and the SFU's bandwidth estimates have recovered from the last
   * profile, so the next one is measured on its own. After the 150 kbit/s episode at a normal round
   * trip this took a few seconds; a profile started before it ends (as the long path once was) reads
   * the slow climb back as its own effect (4.8 frames a second).
   */
  async function videoRecovered(what: string): Promise<void> {
    const t0 = Date.now();
    let previous = await snapshots();
    let last = '';
    await waitFor(
      `both pages decoding video at 70 % of their clean-link frame rate (${what})`,
      async () => {
        const now = await snapshots();
        const fps = ENGINES.map((e) => videoFps(previous[e], now[e]));
        previous = now;
        last = ENGINES.map((e, i) => `${e} ${fps[i]!.toFixed(1)} of ${cleanFps[e].toFixed(1)} frames/s`).join(', ');
        return ENGINES.every((e, i) => fps[i]! >= 0.7 * cleanFps[e]);
      },
      { timeoutMs: 90_000, intervalMs: 2000, lastSeen: () => last },
    );
    console.log(`[impair] ${what}: video back at its clean-link frame rate ${((Date.now() - t0) / 1000).toFixed(1)} s after recovery (${last})`);
  }

  it('clean link: audio flows, nothing is lost (the baseline of the bounds below)', async () => {
    const before = await snapshots();
    const after = await audioFor(before, 10, 'clean link');
    for (const engine of ENGINES) cleanConcealed[engine] = concealedRatio(before[engine], after[engine]);
    for (const engine of ENGINES) cleanFps[engine] = videoFps(before[engine], after[engine]);
    for (const engine of ENGINES) {
      const lost = audioLossRatio(before[engine], after[engine]);
      console.log(
        `[impair] clean link: ${engine} concealed ${(cleanConcealed[engine] * 100).toFixed(2)} % of ${audioSeconds(before[engine], after[engine]).toFixed(1)} s audio, audio packets lost ${(lost * 100).toFixed(2)} %, ${cleanFps[engine].toFixed(1)} video frames/s decoded`,
      );
      expect(lost).toBeLessThan(0.005);
      // What a clean link conceals is the machine's load: ~0.5 % idle, 3.7 % for Chromium beside
      // three niced builds, 4.3 % beside a core-hog. Under 10 % however loaded: Opus with its loss
      // concealment stays intelligible up to about 10 % random loss (ITU-T G.113 Appendix I).
      expect(cleanConcealed[engine]).toBeLessThan(0.1);
    }
  });

  it('3 % loss both ways on both links: audio keeps flowing within the concealment bound, NACK/RTX recover video on both ends', async () => {
    const before = await snapshots();
    const rtxBefore = await retransmissions();
    await impair({ chromium: { up: { lossPercent: 3 }, down: { lossPercent: 3 } }, firefox: { up: { lossPercent: 3 }, down: { lossPercent: 3 } } });
    const after = await audioFor(before, 15, '3 % loss');
    const rtx = await waitFor(
      'retransmissions counted by each publisher and by the SFU in both directions',
      async () => {
        const now = await retransmissions();
        // The sender's own count where the browser reports it (Chromium does; Firefox ESR has no retransmittedPacketsSent).
        const sent = (e: BrowserName): boolean => now[e].sent === null || now[e].sent! > (rtxBefore[e].sent ?? 0);
        return ENGINES.every((e) => sent(e) && now[e].serverReceived > rtxBefore[e].serverReceived && now[e].serverSent > rtxBefore[e].serverSent)
          ? now
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    await impair({});
    // A packet crosses the sender's uplink and the receiver's downlink: 1 - 0.97² ≈ 5.9 % path loss.
    const pathLoss = 1 - 0.97 ** 2;
    for (const engine of ENGINES) {
      const ratio = concealedRatio(before[engine], after[engine]);
      const fec = after[engine].audioIn.fecPacketsReceived - before[engine].audioIn.fecPacketsReceived;
      console.log(
        `[impair] 3 % loss: ${engine} concealed ${(ratio * 100).toFixed(2)} % of ${audioSeconds(before[engine], after[engine]).toFixed(1)} s audio (bound ${(concealedBound(engine, pathLoss, before[engine], after[engine]) * 100).toFixed(1)} %), audio packets lost ${(audioLossRatio(before[engine], after[engine]) * 100).toFixed(2)} %, FEC packets ${fec}; retransmissions: sent ${rtx[engine].sent === null ? 'not reported' : rtx[engine].sent! - (rtxBefore[engine].sent ?? 0)}, SFU received ${rtx[engine].serverReceived - rtxBefore[engine].serverReceived}, SFU resent to it ${rtx[engine].serverSent - rtxBefore[engine].serverSent}`,
      );
      expect(ratio).toBeLessThan(concealedBound(engine, pathLoss, before[engine], after[engine]));
    }
    expect(rtx.chromium.sent).not.toBeNull();
  });

  // The bad link loses 10 % each way. Its own SDK sees the uplink's loss (resends on the SFU's
  // NACKs, receiver reports) and the other sees it through the grade the SFU relays; the other's
  // own counters cannot, as what it receives arrives repaired by the SFU.
  for (const bad of ENGINES) {
    it(`10 % loss on the ${bad} link: its quality reads poor for itself and for the other, audio within the bound; good again after recovery`, async () => {
      const seen = other(bad);
      const before = await snapshots();
      await impair({ [bad]: { up: { lossPercent: 10 }, down: { lossPercent: 10 } } });
      const episode: LossEpisode = { bad, from: Date.now(), to: Number.POSITIVE_INFINITY };
      episodes.push(episode);
      let last = '';
      await waitFor(
        `${bad}'s quality poor on both pages`,
        async () => {
          const now = await snapshots();
          const graded = now[seen.engine].quality.remote[parties[bad].identity];
          last = `${bad} grades itself ${now[bad].quality.local}, ${seen.engine} grades it ${graded}`;
          return now[bad].quality.local === 'poor' && graded === 'poor' ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1000, lastSeen: () => last },
      );
      const after = await audioFor(before, 15, `10 % loss on ${bad}`);
      await impair({});
      episode.to = Date.now();
      for (const engine of ENGINES) {
        const ratio = concealedRatio(before[engine], after[engine]);
        console.log(
          `[impair] 10 % loss on ${bad}: ${engine} concealed ${(ratio * 100).toFixed(2)} % of ${audioSeconds(before[engine], after[engine]).toFixed(1)} s audio (bound ${(concealedBound(engine, 0.1, before[engine], after[engine]) * 100).toFixed(1)} %), audio packets lost ${(audioLossRatio(before[engine], after[engine]) * 100).toFixed(2)} %`,
        );
        expect(ratio).toBeLessThan(concealedBound(engine, 0.1, before[engine], after[engine]));
      }
      const t0 = Date.now();
      await waitFor(
        `${bad}'s quality good again on both pages`,
        async () => {
          const now = await snapshots();
          const ok = (q: string | undefined): boolean => q === 'good' || q === 'excellent';
          return ok(now[bad].quality.local) && ok(now[seen.engine].quality.remote[parties[bad].identity]) ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
      console.log(`[impair] 10 % loss on ${bad}: quality good again ${((Date.now() - t0) / 1000).toFixed(1)} s after recovery`);
    });
  }

  it('downlink capped at 250 kbit/s (or below a slower top layer): the SFU forwards a lower layer from its bandwidth estimate, and the top layer again after recovery', async () => {
    const top = await waitFor(
      'both camera consumers on their top layer',
      async () => {
        const entries = await Promise.all(ENGINES.map(async (e) => [e, await cameraConsumer(e)] as const));
        return entries.every(([, c]) => c?.currentLayers && c.preferredLayers && c.currentLayers.spatialLayer >= 1)
          ? (Object.fromEntries(entries) as Record<BrowserName, ConsumerStatsInfo>)
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    const layerText = (c: ConsumerStatsInfo | undefined): string =>
      c
        ? `layer ${c.currentLayers?.spatialLayer ?? '-'}/${c.currentLayers?.temporalLayer ?? '-'} (preferred ${c.preferredLayers?.spatialLayer ?? '-'}) at ${Math.round(c.bitrate / 1000)} kbit/s`
        : 'no consumer';
    // The cap must be narrower than the top layer, or there is nothing to switch for. Idle, Firefox's
    // top layer came at ~270 kbit/s; a CPU-starved encoder sends less, and a top layer under the cap
    // is rightly kept (the likely cause of a 60 s timeout in a run beside a hog). Such a camera's
    // subscriber gets a link with room for audio (Opus with its headers ~50 kbit/s) and 70 % of the
    // top layer: the top layer does not fit, a lower one does (10-80 kbit/s). At 100 kbit/s the SFU
    // once forwarded no layer at all for 60 s.
    const topKbps = { chromium: Infinity, firefox: Infinity } as Record<BrowserName, number>;
    for (let sample = 0; sample < 3; sample++) {
      for (const engine of ENGINES) {
        const c = await cameraConsumer(engine);
        if (c?.currentLayers && c.currentLayers.spatialLayer >= top[engine].currentLayers!.spatialLayer)
          topKbps[engine] = Math.min(topKbps[engine], c.bitrate / 1000);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const AUDIO_KBIT = 55;
    const capKbit = (engine: BrowserName): number => (topKbps[engine] >= 250 ? 250 : Math.max(100, Math.round(topKbps[engine] * 0.7 + AUDIO_KBIT)));
    console.log(
      `[impair] 250 kbit/s downlink, before: ${ENGINES.map((e) => `${e} gets ${layerText(top[e])}, at least ${Math.round(topKbps[e])} kbit/s over 3 s: link capped at ${capKbit(e)} kbit/s`).join('; ')}`,
    );
    await impair({ chromium: { down: { rateKbit: capKbit('chromium') } }, firefox: { down: { rateKbit: capKbit('firefox') } } });
    let lastSeen = '';
    // The window below starts once the lower layer fits the link beside the audio: the switch
    // itself sends the lower layer's keyframe (measured at 90 kbit/s on a 100 kbit/s link once).
    const low = await waitFor(
      `lower layers forwarded to both subscribers, leaving ${AUDIO_KBIT} kbit/s of the link for audio`,
      async () => {
        const entries = await Promise.all(ENGINES.map(async (e) => [e, await cameraConsumer(e)] as const));
        lastSeen = entries.map(([e, c]) => `${e} gets ${layerText(c)}`).join('; ');
        return entries.every(
          ([e, c]) => c?.currentLayers && c.currentLayers.spatialLayer < top[e].currentLayers!.spatialLayer && c.bitrate / 1000 <= capKbit(e) - AUDIO_KBIT,
        )
          ? (Object.fromEntries(entries) as Record<BrowserName, ConsumerStatsInfo>)
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, lastSeen: () => lastSeen },
    );
    const before = await snapshots();
    const after = await audioFor(before, 10, '250 kbit/s downlink');
    for (const engine of ENGINES) {
      const c = low[engine];
      console.log(
        `[impair] 250 kbit/s downlink: ${engine} gets spatial layer ${c.currentLayers?.spatialLayer} (preferred ${c.preferredLayers?.spatialLayer}, was ${top[engine].currentLayers?.spatialLayer}) at ${Math.round(c.bitrate / 1000)} kbit/s; audio concealed ${(concealedRatio(before[engine], after[engine]) * 100).toFixed(2)} % (bound ${(concealedBound(engine, 0.03, before[engine], after[engine]) * 100).toFixed(1)} %), audio packets lost ${(audioLossRatio(before[engine], after[engine]) * 100).toFixed(2)} %`,
      );
      // The subscriber still asks for the top layer: the lower one is the SFU's bandwidth decision.
      expect(c.preferredLayers?.spatialLayer).toBe(top[engine].preferredLayers?.spatialLayer);
      // Once the SFU forwards the lower layer, the link's queue has room for audio: on a 250 kbit/s
      // link the window (after the switch) loses less audio than the 3 % loss profile's path does
      // (5.9 %; measured 0-0.2 % idle, 3.3 % for Firefox once beside a CPU hog), and what is
      // concealed beyond that is the machine's load (up to 3.6 % for Chromium at load average 10).
      // A link capped below 250 kbit/s (the other's top layer was slow) carries ~50 kbit/s of audio
      // beside the lower layer and the SFU's bandwidth probes: at 100 kbit/s 3.4 % lost in one run,
      // 6.15 % and 6.37 % in two others with the video at 14 kbit/s (6 December), so there the
      // bound is the 10 % up to which Opus stays intelligible (ITU-T G.113 Appendix I).
      expect(audioLossRatio(before[engine], after[engine])).toBeLessThan(capKbit(engine) >= 250 ? 1 - 0.97 ** 2 : 0.1);
      expect(concealedRatio(before[engine], after[engine])).toBeLessThan(concealedBound(engine, 0.03, before[engine], after[engine]));
    }
    await impair({});
    const t0 = Date.now();
    await waitFor(
      'the top layers forwarded again',
      async () => {
        const entries = await Promise.all(ENGINES.map(async (e) => [e, await cameraConsumer(e)] as const));
        return entries.every(([e, c]) => c?.currentLayers && c.currentLayers.spatialLayer >= top[e].currentLayers!.spatialLayer) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    console.log(`[impair] 250 kbit/s downlink: top layers back ${((Date.now() - t0) / 1000).toFixed(1)} s after recovery`);
  });

  // The encoder adapts when the browser itself sends less than the cap (its bytesSent, counted before
  // the bottleneck: a sender that did not adapt keeps sending and the link's queue drops the rest) and
  // the SFU gets no top simulcast layer. The top layer is the highest one the producer was set up
  // with, not the ones active just before: on a loaded machine the encoder may already have dropped
  // layers for CPU, and comparing with that (as this case once did) could never pass.
  it("uplink capped at 300 kbit/s: each publisher's encoder sends less (top simulcast layer dropped), audio within the bound", async () => {
    const full = await Promise.all(ENGINES.map((e) => producer(e, 'video')));
    await impair({ chromium: { up: { rateKbit: 300 } }, firefox: { up: { rateKbit: 300 } } });
    let last = '';
    let previous = await snapshots();
    const adapted = await waitFor(
      'both publishers below the cap without their top layer',
      async () => {
        const now = await snapshots();
        const producers = await Promise.all(ENGINES.map((e) => producer(e, 'video')));
        const sendKbps = ENGINES.map((e) => videoSendKbps(previous[e], now[e]));
        previous = now;
        last = producers
          .map(
            (p, i) =>
              `${ENGINES[i]} sends ${Math.round(sendKbps[i]!)} kbit/s, SFU gets ${Math.round((p?.bitrate ?? 0) / 1000)} kbit/s on rids ${p?.activeRids.join(',')} of ${p?.rids.join(',')}`,
          )
          .join('; ');
        const top = (p: ProducerStatsInfo): string | undefined => [...p.rids].sort().at(-1);
        return producers.every((p, i) => p && sendKbps[i]! < 300 && p.activeRids.length > 0 && !p.activeRids.includes(top(p)!)) ? producers : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2000, lastSeen: () => last },
    );
    const before = await snapshots();
    const after = await audioFor(before, 10, '300 kbit/s uplink');
    for (const [i, engine] of ENGINES.entries()) {
      const p = adapted[i]!;
      console.log(
        `[impair] 300 kbit/s uplink: ${engine} sends rids ${p.activeRids.join(',')} (was ${full[i]!.activeRids.join(',')}) at ${Math.round(p.bitrate / 1000)} kbit/s, browser says ${Math.round(videoSendKbps(before[engine], after[engine]))} kbit/s, qualityLimitationReason=${after[engine].videoOut.qualityLimitationReason}; audio concealed ${(concealedRatio(before[engine], after[engine]) * 100).toFixed(2)} %`,
      );
      expect(concealedRatio(before[engine], after[engine])).toBeLessThan(concealedBound(engine, 0, before[engine], after[engine]));
    }
    // Chromium names the reason; Firefox does not implement qualityLimitationReason.
    expect(after.chromium.videoOut.qualityLimitationReason).toBe('bandwidth');
    await impair({});
  });

  it('a link that drops to 150 kbit/s both ways for 20 s: audio keeps flowing, video comes back', async () => {
    const before = await snapshots();
    const down = { up: { rateKbit: 150 }, down: { rateKbit: 150 } };
    await impair({ chromium: down, firefox: down });
    // The 20 s are the profile (the stimulus), not a pass/fail window.
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    const during = await snapshots();
    await impair({});
    for (const engine of ENGINES) {
      const seconds = audioSeconds(before[engine], during[engine]);
      console.log(
        `[impair] 150 kbit/s for 20 s: ${engine} received ${seconds.toFixed(1)} s of audio, concealed ${(concealedRatio(before[engine], during[engine]) * 100).toFixed(2)} %, ${during[engine].videoIn.framesDecoded - before[engine].videoIn.framesDecoded} video frames`,
      );
      expect(seconds).toBeGreaterThan(10);
    }
    await videoRecovered('150 kbit/s for 20 s');
  });

  // A long path: 150 ms each way on both links (300 ms round trip to the SFU, 600 ms between the
  // two browsers' ends), every packet ± 15 ms (the round trip varies by ± 30 ms), kept in order.
  // The delay line applies it (delay-line.ts: this kernel has no netem). The case first waits for
  // each browser to measure the round trip, which shows the profile is in force, then measures.
  it('300 ms round trip with ± 30 ms jitter on both links: audio keeps flowing within the bound, video keeps decoding', async () => {
    const long = { delayMs: 150, jitterMs: 15 };
    await impair({ chromium: { up: long, down: long }, firefox: { up: long, down: long } });
    let last = '';
    const measured = await waitFor(
      'both browsers measuring a round trip of 250 ms or more',
      async () => {
        const now = await snapshots();
        last = ENGINES.map((engine) => `${engine} ${Math.round(now[engine].rttMs)} ms`).join(', ');
        return ENGINES.every((engine) => now[engine].rttMs >= 250) ? now : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, lastSeen: () => last },
    );
    const after = await audioFor(measured, 15, '300 ms round trip');
    await impair({});
    for (const engine of ENGINES) {
      const ratio = concealedRatio(measured[engine], after[engine]);
      const frames = after[engine].videoIn.framesDecoded - measured[engine].videoIn.framesDecoded;
      const seconds = (after[engine].at - measured[engine].at) / 1000;
      console.log(
        `[impair] 300 ms round trip: ${engine} measures ${Math.round(after[engine].rttMs)} ms, audio jitter ${after[engine].audioJitterMs.toFixed(1)} ms, concealed ${(ratio * 100).toFixed(2)} % of ${audioSeconds(measured[engine], after[engine]).toFixed(1)} s audio (bound ${(concealedBound(engine, 0, measured[engine], after[engine]) * 100).toFixed(1)} %), ${frames} video frames in ${seconds.toFixed(1)} s, quality ${after[engine].quality.local}`,
      );
      expect(after[engine].rttMs).toBeGreaterThanOrEqual(250);
      expect(ratio).toBeLessThan(concealedBound(engine, 0, measured[engine], after[engine]));
      // Video keeps decoding through the delay: at least 5 frames a second of the window.
      expect(frames).toBeGreaterThan(5 * seconds);
    }
    await Promise.all(ENGINES.map((engine) => waitForFreshMedia(parties[engine].page, [other(engine).identity], 60_000, 'media after the long path')));
  });

  // Screen share on a narrow uplink: the SDK marks the capture contentHint 'detail', so the encoder
  // keeps the resolution (text stays readable) and gives up frame rate instead. The case holds while
  // the browser sends less than the cap (it adapted rather than the link's queue dropping packets).
  // Full resolution is what the encoder sent and the viewer decoded on the clean link (headless
  // Chromium's capture frames are 1400x788 while its track settings say 900 lines).
  it('screen share on a 300 kbit/s uplink: the screen keeps its full resolution on both ends and keeps arriving', async () => {
    const sharer = parties.chromium;
    const viewer = parties.firefox;
    const received = (): Promise<{ frames: number; height: number }> =>
      viewer.page.evaluate(async (identity) => {
        const room = window.telemed.room;
        const remote = [...room.remoteParticipants.values()].find((p) => p.identity === identity);
        const out = { frames: 0, height: 0 };
        for (const track of remote?.tracks ?? []) {
          if (track.source !== 'screenShare') continue;
          (await track.getStats())?.forEach((s: Record<string, unknown>) => {
            if (s.type !== 'inbound-rtp') return;
            out.frames += typeof s.framesDecoded === 'number' ? s.framesDecoded : 0;
            out.height = Math.max(out.height, typeof s.frameHeight === 'number' ? s.frameHeight : 0);
          });
        }
        return out;
      }, sharer.identity);
    await sharer.page.click('#screen');
    const full = await waitFor(
      'the screen share sent and decoded on the clean link',
      async () => {
        const [sent, got] = await Promise.all([linkSnapshot(sharer.page), received()]);
        return sent.screenOut.frameHeight > 0 && got.frames > 3 && got.height === sent.screenOut.frameHeight ? got.height : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    await impair({ chromium: { up: { rateKbit: 300 } } });
    let previous = await linkSnapshot(sharer.page);
    let last = '';
    const start = await received();
    await waitFor(
      'the sharer under the cap, the screen at full resolution, new frames decoded by the viewer',
      async () => {
        const now = await linkSnapshot(sharer.page);
        const kbps =
          ((now.screenOut.bytesSent - previous.screenOut.bytesSent + now.videoOut.bytesSent - previous.videoOut.bytesSent) * 8) /
          Math.max(1, now.at - previous.at);
        previous = now;
        const got = await received();
        last = `sends ${Math.round(kbps)} kbit/s (screen + camera), screen encoded at ${now.screenOut.frameHeight} lines of ${full}, viewer decoded ${got.frames - start.frames} new frames at ${got.height} lines`;
        return kbps < 300 && now.screenOut.frameHeight === full && got.height === full && got.frames - start.frames >= 5 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2000, lastSeen: () => last },
    );
    console.log(`[impair] screen share on 300 kbit/s: full ${full} lines; ${last}`);
    await impair({});
    await sharer.page.click('#screen');
  });

  // What the SFU measured is what a clinic admin reads afterwards. The SFU's inbound stream of a
  // party (its "send (server)" line) depends on that party's uplink only, so each 10 % episode must
  // show on its own party's line and not on the other's, which was on a clean link meanwhile.
  let admin: TestPage | undefined;
  it("the admin's call page shows each 10 % loss episode in its party's per-track loss chart", async () => {
    expect(episodes.map((e) => e.bad)).toEqual(ENGINES);
    const host = await launchBrowser('chromium', { secureOrigins: [platform.apiUrl] });
    launched.push(host);
    admin = await signInAdmin({ browser: host, platform });
    await admin.goto(`${platform.apiUrl}/admin/#/calls/${room}`);
    await waitForSelector(admin, '#chart-track');
    /** The loss chart's table for one party's audio: a row per second, a column per line. */
    const lossTable = async (party: Party): Promise<{ time: number; values: Record<string, number | null> }[]> => {
      const option = await admin!.evaluate(
        (label) => [...document.querySelectorAll<HTMLOptionElement>('#chart-track option')].find((o) => o.textContent === label)?.value,
        `${party.name} · audio`,
      );
      expect(option, `a chart track for ${party.name}'s audio`).toBeDefined();
      await fill(admin!, '#chart-track', option!);
      // The table is built when its disclosure opens (the toggle event re-renders the chart).
      await admin!.evaluate(() => {
        const details = document.querySelector<HTMLDetailsElement>('.chart[data-metric=loss] details');
        if (details) details.open = true;
      });
      return admin!.evaluate(() => {
        const table = document.querySelector('.chart[data-metric=loss] details table');
        const labels = [...(table?.querySelectorAll('thead th') ?? [])].slice(1).map((th) => th.textContent ?? '');
        return [...(table?.querySelectorAll<HTMLTableRowElement>('tbody tr') ?? [])].map((tr) => ({
          time: Number(tr.dataset.time),
          values: Object.fromEntries(
            [...tr.querySelectorAll('td')].map((td, i) => [labels[i] ?? '', td.dataset.value === '' ? null : Number(td.dataset.value)]),
          ),
        }));
      });
    };
    /**
     * Mean of a line over an episode, from 6 s in: the SFU's loss figure for an audio stream is
     * the fraction its receiver reports carry, and mediasoup sends those every 5 s or less, so a
     * line holds its last figure that long.
     */
    const mean = (rows: { time: number; values: Record<string, number | null> }[], line: string, e: LossEpisode): number => {
      const inside = rows
        .filter((r) => r.time * 1000 >= e.from + 6000 && r.time * 1000 <= e.to)
        .map((r) => r.values[line])
        .filter((v): v is number => typeof v === 'number');
      expect(inside.length, `${line}: samples during ${e.bad}'s episode`).toBeGreaterThan(3);
      return inside.reduce((a, b) => a + b, 0) / inside.length;
    };
    for (const engine of ENGINES) {
      const party = parties[engine];
      const line = `${party.name} audio send (server)`;
      const rows = await waitFor(`${line} in the loss chart's table`, async () => {
        const table = await lossTable(party);
        return table.some((r) => line in r.values) ? table : undefined;
      });
      const own = mean(
        rows,
        line,
        episodes.find((e) => e.bad === engine)!,
      );
      const others = mean(
        rows,
        line,
        episodes.find((e) => e.bad !== engine)!,
      );
      console.log(`[impair] admin loss chart, ${line}: ${own.toFixed(1)} % during its own 10 % episode, ${others.toFixed(1)} % during the other's`);
      expect(own).toBeGreaterThan(5);
      expect(others).toBeLessThan(2);
    }
  });

  it('ran without page or server errors', () => {
    for (const engine of ENGINES) expect(parties[engine].page.errors).toEqual([]);
    if (admin) expect(admin.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });
});
