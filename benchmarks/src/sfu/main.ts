// bench:sfu — SFU capacity: bots with synthetic VP8 + Opus over SRTP PlainTransports, through the
// platform (real signaling, tokens, rooms) and through a bare mediasoup harness at the same load.
import { randomBytes } from 'node:crypto';
import { parseArgs, withFreePorts } from '../common/args.js';
import { resolveWorkerBin } from '../common/machine.js';
import { log, startRun, table, writeResults } from '../common/results.js';
import { round } from '../common/stats.js';
import { BotSide } from './bots.js';
import { DEFAULT_PROFILE, packetsPerFrame } from './rtp.js';
import { sfuPlots, TARGET_PPS_PER_CORE } from './plots.js';
import { consumersOf, runPoint, type PointResult, type Scenario } from './scenario.js';
import { BareTarget, PlatformTarget, type SfuTarget } from './targets.js';

const args = parseArgs();
const run = startRun('sfu');
const workerBin = resolveWorkerBin();
const NUM_WORKERS = 2;
const durationMs = args.number('duration', args.quick ? 1500 : 6000);
const warmupMs = args.quick ? 1000 : 1500;
const profile = { ...DEFAULT_PROFILE, videoBitrate: args.number('video-bitrate', DEFAULT_PROFILE.videoBitrate) };

const broadcast = (n: number): Scenario => ({ id: `broadcast-1to${n}`, group: 'broadcast', rooms: 1, publishersPerRoom: 1, subscribersPerRoom: n });
const allToAll = (size: number, rooms: number): Scenario => ({
  id: `all-to-all-${rooms}x${size}`,
  group: 'all-to-all',
  rooms,
  publishersPerRoom: size,
  subscribersPerRoom: 0,
});
const spread = (n: number): Scenario => ({ id: `spread-1to${n}`, group: 'spread', rooms: 1, publishersPerRoom: 1, subscribersPerRoom: n, spread: true });

// Quick: one point per scenario group (the whole quick set has a 2-minute budget).
const scenarios: Scenario[] = args.quick
  ? [broadcast(100), allToAll(10, 1), spread(100)]
  : [
      broadcast(1),
      broadcast(10),
      broadcast(25),
      broadcast(50),
      broadcast(100),
      broadcast(200),
      broadcast(300),
      allToAll(4, 1),
      allToAll(4, 4),
      allToAll(4, 8),
      allToAll(10, 1),
      allToAll(10, 2),
      allToAll(10, 4),
      spread(100),
      spread(300),
    ];

const only = args.get('only');
if (only) scenarios.splice(0, scenarios.length, ...scenarios.filter((s) => new RegExp(only).test(s.id)));

const perPublisherPps = packetsPerFrame(profile) * 30 + 50;
log(
  `bench:sfu${args.quick ? ' --quick' : ''}: ${scenarios.length} load points, ${durationMs / 1000} s measured each, publishers send ${profile.videoBitrate / 1e6} Mbit/s VP8 + Opus (${perPublisherPps} pkt/s)`,
);

const side = await BotSide.create();
const bare = await BareTarget.start(NUM_WORKERS);
// One router per room, like the bare harness: no consumer budget in reach.
const platform = await withFreePorts(1 + NUM_WORKERS, (basePort) =>
  PlatformTarget.start({ workerBin, numWorkers: NUM_WORKERS, basePort, consumersPerWorker: 1_000_000 }),
);
// Spread rooms: a budget of SPREAD_BUDGET consumers per worker, then a router on the other worker joined by pipeToRouter.
const SPREAD_BUDGET = 100;
const platformSpread = scenarios.some((s) => s.spread)
  ? await withFreePorts(1 + NUM_WORKERS, (basePort) =>
      PlatformTarget.start({ workerBin, numWorkers: NUM_WORKERS, basePort, consumersPerWorker: SPREAD_BUDGET }),
    )
  : undefined;
log(
  `platform up (media server pid ${platform.server.process.pid}, ${platform.workerPids().length} workers${platformSpread ? `; spread instance pid ${platformSpread.server.process.pid}` : ''}); bare harness ${bare.workers.length} workers; bot worker pid ${side.worker.pid}`,
);

const results: PointResult[] = [];
try {
  for (const scenario of scenarios) {
    log(`${scenario.id}: ${consumersOf(scenario)} consumers`);
    // Bare first, then the platform, point by point: drift in the shared machine's load hits both alike.
    const targets: SfuTarget[] = scenario.spread ? [bare, ...(platformSpread ? [platformSpread] : [])] : [bare, platform];
    for (const target of targets) {
      // A point whose window saw kernel UDP buffer drops (a worker starved of CPU by other load on
      // the machine) is measured once more in full runs; the attempt with fewer drops is kept.
      let best: PointResult | undefined;
      const attempts = args.quick ? 1 : 2;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const point = await runPoint({ target, side, scenario, profile, durationMs, warmupMs, nonce: randomBytes(3).toString('hex') });
        point.attempts = attempt;
        if (!best || point.udpRcvbufErrors < best.udpRcvbufErrors) best = point;
        if (point.udpRcvbufErrors === 0) break;
        if (attempt < attempts) log(`  ${target.name} ${scenario.id}: ${point.udpRcvbufErrors} kernel UDP drops in the window, measuring again`);
      }
      if (best) results.push(best);
    }
  }
} finally {
  await platform.close();
  await platformSpread?.close();
  await bare.close();
  side.close();
}

// --- summary -----------------------------------------------------------------------------------

const find = (target: string, scenario: string): PointResult | undefined => results.find((r) => r.target === target && r.scenario === scenario);
const ratio = (a: number | undefined, b: number | undefined): string => (a !== undefined && b ? String(round(a / b, 3)) : '–');

const rows = results.map((r) => [
  r.target,
  r.scenario,
  r.consumers,
  r.outPps,
  r.deliveredRatio,
  r.lossRatio,
  `${r.udpRcvbufErrors} (${r.sfuSocketDrops} / ${r.botSocketDrops})`,
  r.unexplainedLossRatio,
  r.sfuWorkerCpu,
  r.outPpsPerWorkerCore,
  r.controlCpu,
  r.botWorkerCpu,
  r.sfuWorkerRssMiB,
  r.controlRssMiB,
]);
const comparison = scenarios.map((s) => {
  const p = find('platform', s.id);
  const b = find('bare', s.id);
  const meets = p
    ? p.outPpsPerWorkerCore >= TARGET_PPS_PER_CORE && p.lossRatio < 0.005 && (b ? p.deliveredRatio / b.deliveredRatio >= 0.9 : false)
      ? 'yes'
      : 'no'
    : '–';
  const drops = (r: PointResult | undefined): string => (r ? `${round(r.lossRatio * 100, 2)} % / ${r.udpRcvbufErrors}` : '–');
  return [
    s.id,
    consumersOf(s),
    ratio(p?.deliveredRatio, b?.deliveredRatio),
    ratio(p?.outPpsPerWorkerCore, b?.outPpsPerWorkerCore),
    ratio(p?.sfuWorkerCpu, b?.sfuWorkerCpu),
    `${drops(p)} · ${drops(b)}`,
    p ? `${round(p.unexplainedLossRatio * 100, 2)} %` : '–',
    meets,
  ];
});
const spreadRows = scenarios
  .filter((s) => s.spread)
  .flatMap((s) =>
    ['platform', 'bare'].map((target) => {
      const one = find(target, `broadcast-1to${s.subscribersPerRoom}`);
      const sp = find(target, s.id);
      return [
        target,
        s.id,
        consumersOf(s),
        sp?.deliveredRatio ?? '–',
        sp?.sfuWorkerCpuEach.join(' + ') ?? '–',
        one ? `${one.deliveredRatio} / ${one.sfuWorkerCpu}` : 'not measured',
        sp?.outPpsPerWorkerCore ?? '–',
      ];
    }),
  );

const summary = [
  `Publishers send ${profile.videoBitrate / 1e6} Mbit/s of synthetic VP8 (${packetsPerFrame(profile)} packets per frame at 30 fps, keyframe every ${profile.keyframeInterval} frames and on PLI) plus 20 ms Opus-sized packets: ${perPublisherPps} packets/s each. ` +
    `Each point measures a ${durationMs / 1000} s window after a ${warmupMs / 1000} s warm-up${args.quick ? '' : '; a window with kernel UDP drops is measured once more and the attempt with fewer drops kept (column `attempts` in the JSON)'}. SFU: ${NUM_WORKERS} mediasoup workers in both targets; bots: one more worker in the bench process.`,
  '',
  '## Platform against the bare harness (same run, same load)',
  '',
  'Ratios are platform ÷ bare. Target: ≥ 100k packets/s out per worker core, < 0.5 % loss, and a delivered ratio ≥ 0.9 of the bare harness at every point.',
  '',
  table(
    [
      'scenario',
      'consumers',
      'delivered ratio (p/b)',
      'pkt/s per core (p/b)',
      'SFU worker CPU (p/b)',
      'loss / kernel UDP drops: platform · bare',
      'platform loss not explained by kernel drops',
      'meets target',
    ],
    comparison,
  ),
  '',
  "Loss on this shared 2-core machine is almost entirely kernel receive-buffer overflow (`RcvbufErrors` in /proc/net/snmp; per socket in /proc/net/udp): a worker waiting for a CPU while other helpers' tests run lets its UDP socket buffer (208 KiB default) overflow. The per-socket split shows whether the SFU's sockets or the bots' dropped.",
  '',
  '## Every point',
  '',
  table(
    [
      'target',
      'scenario',
      'consumers',
      'out pkt/s',
      'delivered',
      'loss',
      'kernel UDP buffer drops (at SFU / bot sockets)',
      'loss not explained by them',
      'SFU worker CPU (cores)',
      'out pkt/s per worker core',
      'media-server Node CPU',
      'bot worker CPU',
      'SFU worker RSS MiB',
      'media-server RSS MiB',
    ],
    rows,
  ),
  '',
  '## 1→N spread over all workers by pipeToRouter',
  '',
  `Platform: a second media-server instance with MEDIA_CONSUMERS_PER_WORKER=${SPREAD_BUDGET}: once the room's router serves ${SPREAD_BUDGET} consumers, new participants get a router on the other worker and the publisher's producers cross by pipeToRouter (the main instance above runs with no reachable budget, one router per room, like the harness). ` +
    'Bare harness: the publisher on worker 0, its producers piped to a router on worker 1, subscribers alternating between the two.',
  '',
  table(
    ['target', 'scenario', 'consumers', 'delivered', 'CPU per worker (cores)', 'same N on one worker: delivered / CPU', 'out pkt/s per worker core'],
    spreadRows,
  ),
].join('\n');

writeResults(run, {
  raw: { profile, durationMs, workers: NUM_WORKERS, points: results },
  summary,
  plots: sfuPlots(results),
});
process.exit(0);
