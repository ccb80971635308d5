// bench:sfu — SFU capacity: bots with synthetic VP8 + Opus over SRTP PlainTransports, through the
// platform (real signaling, tokens, rooms) and through a bare mediasoup harness at the same load.
import { randomBytes } from 'node:crypto';
import { parseArgs, withFreePorts } from '../common/args.js';
import { resolveWorkerBin } from '../common/machine.js';
import { log, startRun, table, writeResults } from '../common/results.js';
import { percentile, round } from '../common/stats.js';
import { BotSide } from './bots.js';
import { DEFAULT_PROFILE, packetsPerFrame } from './rtp.js';
import { sfuPlots, TARGET_PPS_PER_CORE } from './plots.js';
import { consumersOf, runPoint, type PointResult, type Scenario } from './scenario.js';
import { HOME_NODE_CAPACITY, NodePair } from './cluster-targets.js';
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
const crossNode = (n: number): Scenario => ({ id: `cross-node-1to${n}`, group: 'cross-node', rooms: 1, publishersPerRoom: 1, subscribersPerRoom: n });
// `--cross-n 10,20`: other N for the cross-node points.
const crossNodeNs = args.get('cross-n')?.split(',').map(Number) ?? (args.quick ? [50] : [50, 200]);
// The pipe's cost is small against the run-to-run spread of one window on a shared machine: the
// same-node and cross-node points alternate this many times and the medians are compared.
const crossRounds = args.number('cross-rounds', args.quick ? 1 : 3);

// Quick: one point per scenario group (the whole quick set has a 2-minute budget).
const scenarios: Scenario[] = args.quick
  ? [broadcast(100), allToAll(10, 1), spread(100), ...crossNodeNs.map(crossNode)]
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
      ...crossNodeNs.map(crossNode),
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
const platform = scenarios.some((s) => s.group === 'broadcast' || s.group === 'all-to-all')
  ? await withFreePorts(1 + NUM_WORKERS, (basePort) => PlatformTarget.start({ workerBin, numWorkers: NUM_WORKERS, basePort, consumersPerWorker: 1_000_000 }))
  : undefined;
// Spread rooms: a budget of SPREAD_BUDGET consumers per worker, then a router on the other worker joined by pipeToRouter.
const SPREAD_BUDGET = 100;
const platformSpread = scenarios.some((s) => s.spread)
  ? await withFreePorts(1 + NUM_WORKERS, (basePort) =>
      PlatformTarget.start({ workerBin, numWorkers: NUM_WORKERS, basePort, consumersPerWorker: SPREAD_BUDGET }),
    )
  : undefined;
// Cross-node rooms: two media nodes of one cluster, one worker each (a room uses one worker per node), the same settings otherwise.
const nodes = scenarios.some((s) => s.group === 'cross-node')
  ? await NodePair.start({
      workerBin,
      mediaEnv: { MAX_PARTICIPANTS_PER_ROOM: '1000', MEDIA_CONSUMERS_PER_WORKER: '1000000', MEDIA_EMPTY_ROOM_GRACE_MS: '1000' },
    })
  : undefined;
log(
  [
    platform && `platform up (media server pid ${platform.server.process.pid}, ${platform.workerPids().length} workers)`,
    platformSpread && `spread instance pid ${platformSpread.server.process.pid}`,
    nodes && `two media nodes up (workers ${nodes.sameNode.workerPids().join(', ')})`,
    `bare harness ${bare.workers.length} workers; bot worker pid ${side.worker.pid}`,
  ]
    .filter(Boolean)
    .join('; '),
);

/** Each scenario's targets, measured point by point in this order. */
function targetsOf(scenario: Scenario): SfuTarget[] {
  if (scenario.group === 'cross-node') return nodes ? [nodes.sameNode, nodes.crossNode] : [];
  const platformOf = scenario.spread ? platformSpread : platform;
  return platformOf ? [bare, platformOf] : [bare];
}

const results: PointResult[] = [];
try {
  for (const scenario of scenarios) {
    log(`${scenario.id}: ${consumersOf(scenario)} consumers`);
    // Point by point, bare then platform (same node then across nodes): drift in the shared machine's load hits both alike.
    const rounds = scenario.group === 'cross-node' ? crossRounds : 1;
    for (let pass = 0; pass < rounds; pass++)
      for (const target of targetsOf(scenario)) {
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
        if (best && rounds > 1) best.round = pass;
        if (best) results.push(best);
      }
  }
} finally {
  await platform?.close();
  await platformSpread?.close();
  await nodes?.close();
  await bare.close();
  side.close();
}

// --- summary -----------------------------------------------------------------------------------

const find = (target: string, scenario: string): PointResult | undefined => results.find((r) => r.target === target && r.scenario === scenario);
const ratio = (a: number | undefined, b: number | undefined): string => (a !== undefined && b ? String(round(a / b, 3)) : '–');
const drops = (r: PointResult | undefined): string => (r ? `${round(r.lossRatio * 100, 2)} % / ${r.udpRcvbufErrors}` : '–');

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
const comparison = scenarios
  .filter((s) => s.group !== 'cross-node')
  .map((s) => {
    const p = find('platform', s.id);
    const b = find('bare', s.id);
    const meets = p
      ? p.outPpsPerWorkerCore >= TARGET_PPS_PER_CORE && p.lossRatio < 0.005 && (b ? p.deliveredRatio / b.deliveredRatio >= 0.9 : false)
        ? 'yes'
        : 'no'
      : '–';
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
const median = (values: number[]): number => percentile(values, 50);
const crossNodeRows = scenarios
  .filter((s) => s.group === 'cross-node')
  .map((s) => {
    const of = (target: string): PointResult[] => results.filter((r) => r.target === target && r.scenario === s.id);
    const same = of('same-node');
    const cross = of('cross-node');
    const cpu = (points: PointResult[]): number => median(points.map((r) => r.sfuWorkerCpu));
    const cpuText = (points: PointResult[]): string =>
      points.length === 0
        ? '–'
        : `${round(cpu(points), 3)} (A ${round(median(points.map((r) => r.sfuWorkerCpuEach[0] ?? 0)), 3)} + B ${round(median(points.map((r) => r.sfuWorkerCpuEach[1] ?? 0)), 3)}; ${round(Math.min(...points.map((r) => r.sfuWorkerCpu)), 3)}–${round(Math.max(...points.map((r) => r.sfuWorkerCpu)), 3)})`;
    const extra = same.length > 0 && cross.length > 0 ? cpu(cross) - cpu(same) : undefined;
    const outPps = median(cross.map((r) => r.outPps));
    const sign = (x: number): string => (x >= 0 ? '+' : '');
    return [
      s.subscribersPerRoom,
      consumersOf(s),
      same.length,
      `${same.map((r) => r.deliveredRatio).join(' ')} · ${cross.map((r) => r.deliveredRatio).join(' ')}`,
      `${same.map(drops).join(', ')} · ${cross.map(drops).join(', ')}`,
      cpuText(same),
      cpuText(cross),
      extra === undefined || cpu(same) === 0 ? '–' : `${sign(extra)}${round(extra, 3)} cores (${sign(extra)}${round((extra / cpu(same)) * 100, 1)} %)`,
      extra === undefined || !outPps ? '–' : `${sign(extra)}${round((extra * 1e6) / outPps, 2)}`,
    ];
  });

const summary = [
  `Publishers send ${profile.videoBitrate / 1e6} Mbit/s of synthetic VP8 (${packetsPerFrame(profile)} packets per frame at 30 fps, keyframe every ${profile.keyframeInterval} frames and on PLI) plus 20 ms Opus-sized packets: ${perPublisherPps} packets/s each. ` +
    `Each point measures a ${durationMs / 1000} s window after a ${warmupMs / 1000} s warm-up${args.quick ? '' : '; a window with kernel UDP drops is measured once more and the attempt with fewer drops kept (column `attempts` in the JSON)'}. SFU: ${NUM_WORKERS} mediasoup workers in both targets (one per node across two nodes, last section); bots: one more worker in the bench process.`,
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
  '',
  '## 1→N across two media nodes (the cost of the pipe)',
  '',
  `Two media nodes of one cluster (\`src/common/cluster.ts\`, as bench:failover and bench:placement: the API, a throwaway redis-server, node A on 127.0.0.2 and node B on 127.0.0.3, one mediasoup worker each, no reachable consumer budget). ` +
    'Same node: the publisher and all N viewers join node A. ' +
    `Across nodes: the publisher opens the room on node A; every viewer asks the API's placement where to connect (\`POST /api/server/room-tokens\`, as in bench:placement; the bots sign their own loadTest tokens): the first is placed on A, the room's node, which is then at its capacity (MEDIA_NODE_CAPACITY=${HOME_NODE_CAPACITY} on A: that viewer's audio and video), so the API sends the other N − 1 to node B and adds B to the room's node set in Redis. ` +
    "B opens its part of the room, finds A in the set, and the nodes link their routers with a PipeTransport each (SRTP and RTX on) negotiated over Redis pub/sub; A sends the publisher's two tracks into the pipe once. " +
    `Both points run back to back at each N on the same two nodes with the same bots, profile and windows, and both count the workers of both nodes (B idles on the same-node point), so everything but the pipe is equal; they alternate ${crossRounds} time(s) and the table compares medians (the range shows the spread of single windows). ` +
    "(The platform's broadcast points above run on another instance: two workers on 127.0.0.1, no Redis.)",
  '',
  "Unlike the pipeToRouter spread above (two workers of one media-server process, mediasoup's in-process pipe on loopback without SRTP or RTX, viewers split by the per-worker consumer budget), this is two media-server processes on their own addresses, an encrypted pipe negotiated between them, and viewers placed by the API: what a room pays once it outgrows its node.",
  '',
  table(
    [
      'N viewers',
      'consumers',
      'rounds',
      'delivered: same node · across',
      'loss / kernel UDP drops: same node · across',
      'SFU worker CPU, same node: median cores (A + B; range)',
      'SFU worker CPU, across: median cores (A + B; range)',
      'across less same node (median)',
      'per forwarded packet (µs)',
    ],
    crossNodeRows,
  ),
].join('\n');

writeResults(run, {
  raw: { profile, durationMs, workers: NUM_WORKERS, points: results },
  summary,
  // One point per target and scenario in the plots: the cross-node group's first round.
  plots: sfuPlots(results.filter((r) => (r.round ?? 0) === 0)),
});
process.exit(0);
