// bench:placement — how the API spreads rooms over three media nodes by their load: rooms of 2, 3
// and 4 bots (each publishing synthetic VP8 + Opus and subscribing to everyone else) start one at a
// time, each placed by the API (`POST /api/server/room-tokens`, the route a third-party backend
// uses; sticky for the room's later seats); after each room, once the nodes' heartbeats carry it,
// the registry's load per node. The baselines in the same run: the same rooms dealt round robin
// by room count (what a load balancer blind to room sizes does), and the even split.
import { randomBytes } from 'node:crypto';
import { BOT_SIGNALING, roomToken, TestSignalingClient, waitFor } from '@telemed/test-kit';
import { parseArgs } from '../common/args.js';
import { startCluster, type RegisteredNode } from '../common/cluster.js';
import { resolveWorkerBin } from '../common/machine.js';
import { log, startRun, table, writeResults } from '../common/results.js';
import { round } from '../common/stats.js';
import { lineChart } from '../common/svg-chart.js';
import { Bot, BotSide } from '../sfu/bots.js';
import { DEFAULT_PROFILE } from '../sfu/rtp.js';
import { Pacer } from '../sfu/scenario.js';
import { PlatformSession } from '../sfu/targets.js';

const args = parseArgs();
const run = startRun('placement');
const roomCount = args.number('rooms', args.quick ? 9 : 24);
/** Wait after each room: the heartbeat period is 1 s, so two carry the room's consumers. */
const spacingMs = args.number('spacing-ms', 2500);
const videoBitrate = args.number('video-bitrate', 300_000);
const SIZES = [2, 3, 4];
const workerBin = resolveWorkerBin();

/** Consumers a room of `size` bots makes: each bot consumes every other bot's audio and video. */
const consumersOf = (size: number): number => size * (size - 1) * 2;

interface Sample {
  rooms: number;
  nodes: Record<string, { consumers: number; rooms: number; cpu: number }>;
}

log(`bench:placement${args.quick ? ' --quick' : ''}: ${roomCount} rooms of ${SIZES.join('/')} bots over 3 media nodes, one every ${spacingMs} ms`);
const cluster = await startCluster({ name: 'placement', workerBin });
const side = await BotSide.create();
const pacer = new Pacer([]);
const bots: Bot[] = [];
const placedOn: string[] = [];
const samples: Sample[] = [];
const nonce = randomBytes(3).toString('hex');
const idOf = (url: string): string => cluster.nodes.find((n) => n.url === url)?.id ?? url;
const snapshot = (records: RegisteredNode[], rooms: number): Sample => ({
  rooms,
  nodes: Object.fromEntries(
    records.map((r) => [
      r.id,
      { consumers: r.load.consumers, rooms: r.load.rooms, cpu: round(r.load.workerCpu.reduce((a, b) => a + b, 0) / Math.max(1, r.load.workerCpu.length), 3) },
    ]),
  ),
});
/** The registry once every node has heartbeated after `since` (ms, the nodes' clocks: same machine). */
const freshRegistry = (since: number): Promise<RegisteredNode[]> =>
  waitFor(
    'a heartbeat from every node',
    async () => {
      const records = await cluster.registry();
      return records.length === 3 && records.every((r) => Date.parse(r.heartbeatAt) > since) ? records : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );

try {
  const admin = await cluster.login('admin@telemed.demo');
  const { secret: apiKey } = await cluster.api<{ secret: string }>(admin, 'POST', '/api/admin/api-keys', { name: 'bench:placement', scopes: ['room-tokens'] });
  pacer.start();
  for (let r = 0; r < roomCount; r++) {
    const size = SIZES[r % SIZES.length]!;
    const room = `placement-${nonce}-${r}`;
    const urls = new Set<string>();
    for (let seat = 0; seat < size; seat++) {
      const identity = `bot-${r}-${seat}`;
      // Placed by the API; the bots' own tokens carry the loadTest grant (plain RTP transports), which the API never issues.
      const { url } = await cluster.api<{ url: string }>(apiKey, 'POST', '/api/server/room-tokens', { room, identity });
      urls.add(url);
      const token = roomToken({ secret: cluster.secrets.roomTokenSecret, room, identity, grants: { loadTest: true } });
      const bot = new Bot(side, identity, new PlatformSession(await TestSignalingClient.connect({ url, token, ...BOT_SIGNALING })));
      await bot.start({ subscribe: true, profile: { ...DEFAULT_PROFILE, videoBitrate } });
      bots.push(bot);
      pacer.add(bot);
    }
    if (urls.size !== 1) throw new Error(`room ${r} was not sticky: its seats went to ${[...urls].join(', ')}`);
    placedOn.push(idOf([...urls][0]!));
    await Promise.all(bots.map((b) => b.settled()));
    const joinedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, spacingMs));
    const sample = snapshot(await freshRegistry(joinedAt), r + 1);
    samples.push(sample);
    const loads = Object.entries(sample.nodes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, n]) => `${id} ${n.consumers}c/${n.rooms}r/${Math.round(n.cpu * 100)}%`)
      .join(', ');
    log(`room ${r + 1}/${roomCount} (${size} bots, ${consumersOf(size)} consumers) → ${placedOn[r]}; ${loads}`);
  }
} finally {
  pacer.stop();
  await Promise.all(bots.map((b) => b.close().catch(() => undefined)));
  side.close();
  await cluster.stop();
}

const nodeIds = cluster.nodes.map((n) => n.id).sort();
const sizes = Array.from({ length: samples.length }, (_, r) => SIZES[r % SIZES.length]!);
const totalConsumers = sizes.reduce((n, s) => n + consumersOf(s), 0);
const last = samples.at(-1)!;
const measured = nodeIds.map((id) => last.nodes[id]?.consumers ?? 0);
const placedConsumers = nodeIds.map((id) => sizes.reduce((n, s, r) => n + (placedOn[r] === id ? consumersOf(s) : 0), 0));
const roundRobin = nodeIds.map((_, i) => sizes.reduce((n, s, r) => n + (r % nodeIds.length === i ? consumersOf(s) : 0), 0));
const even = totalConsumers / nodeIds.length;
/** Placement blind to load: each room on a random node; the mean spread over many draws (fixed seed). */
const RANDOM_DRAWS = 10_000;
let seed = 1;
const random = (): number => ((seed = (seed * 48271) % 2147483647) - 1) / 2147483646;
/** max over mean (1 = even) and the coefficient of variation, of consumers per node. */
const spread = (perNode: number[]): { maxOverMean: number; cov: number } => {
  const mean = perNode.reduce((a, b) => a + b, 0) / perNode.length;
  const sd = Math.sqrt(perNode.reduce((a, b) => a + (b - mean) ** 2, 0) / perNode.length);
  return { maxOverMean: round(Math.max(...perNode) / mean, 3), cov: round(sd / mean, 3) };
};
const randomSpread = (() => {
  let maxOverMean = 0;
  let cov = 0;
  for (let draw = 0; draw < RANDOM_DRAWS; draw++) {
    const perNode = nodeIds.map(() => 0);
    for (const size of sizes) perNode[Math.floor(random() * nodeIds.length)]! += consumersOf(size);
    const s = spread(perNode);
    maxOverMean += s.maxOverMean / RANDOM_DRAWS;
    cov += s.cov / RANDOM_DRAWS;
  }
  return { maxOverMean: round(maxOverMean, 3), cov: round(cov, 3) };
})();
const rows: (string | number)[][] = [
  ['measured (registry heartbeats)', ...measured, spread(measured).maxOverMean, spread(measured).cov],
  ['as placed (room sizes × node)', ...placedConsumers, spread(placedConsumers).maxOverMean, spread(placedConsumers).cov],
  ['baseline: round robin by room', ...roundRobin, spread(roundRobin).maxOverMean, spread(roundRobin).cov],
  [`baseline: a random node per room (mean of ${RANDOM_DRAWS} draws)`, ...nodeIds.map(() => '-'), randomSpread.maxOverMean, randomSpread.cov],
  ['baseline: even split', ...nodeIds.map(() => round(even, 1)), 1, 0],
];
const summary = [
  `${samples.length} rooms of ${SIZES.join(', ')} bots in turn (${totalConsumers} consumers in all), started one at a time ${spacingMs} ms apart on`,
  'three media nodes with one mediasoup worker each (127.0.0.2-4, one Redis registry, heartbeat 1 s), each room placed by the API',
  `(POST /api/server/room-tokens; the selector: least loaded by max(consumer share of capacity, worker CPU), then fewer rooms). Bots send`,
  `synthetic VP8 at ${videoBitrate / 1000} kbit/s and Opus, and consume every other bot in their room. Consumers per node at the end:`,
  '',
  table(['', ...nodeIds, 'max / mean', 'CoV'], rows),
  '',
  `Round robin by room count deals the sizes' cycle (${SIZES.join(', ')}) onto ${nodeIds.length} nodes: with as many sizes as nodes it puts every room of`,
  'one size on the same node, its worst case; a random node per room is the fairer load-blind baseline.',
  '',
  `Rooms per node: ${nodeIds.map((id) => `${id} ${placedOn.filter((p) => p === id).length}`).join(', ')}. Worker CPU at the end: ${nodeIds
    .map((id) => `${id} ${Math.round((last.nodes[id]?.cpu ?? 0) * 100)} %`)
    .join(', ')}. Every later seat of a room went to the node its first seat got (sticky).`,
  '',
  table(
    ['room', 'bots', 'node', ...nodeIds.map((id) => `${id} consumers`), ...nodeIds.map((id) => `${id} CPU %`)],
    samples.map((s, r) => [
      r + 1,
      sizes[r]!,
      placedOn[r]!,
      ...nodeIds.map((id) => s.nodes[id]?.consumers ?? 0),
      ...nodeIds.map((id) => Math.round((s.nodes[id]?.cpu ?? 0) * 100)),
    ]),
  ),
];
writeResults(run, {
  raw: { rooms: samples.length, sizes, spacingMs, videoBitrate, placedOn, samples, measured, roundRobin, randomSpread, even, nodeIds },
  summary: summary.join('\n'),
  plots: {
    consumers: lineChart({
      title: 'consumers per media node as rooms start (placed by the API)',
      xLabel: 'rooms started',
      yLabel: 'consumers',
      series: [
        ...nodeIds.map((id) => ({ name: id, points: samples.map((s): [number, number] => [s.rooms, s.nodes[id]?.consumers ?? 0]) })),
        {
          name: 'even split',
          points: samples.map((s): [number, number] => [
            s.rooms,
            round(sizes.slice(0, s.rooms).reduce((n, size) => n + consumersOf(size), 0) / nodeIds.length, 1),
          ]),
          dashed: true,
        },
      ],
    }),
  },
});
process.exit(0);
