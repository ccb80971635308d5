// bench:join — join latency in real Chromium with fake media: from the connect call to the first
// decoded remote video frame and to remote audio flowing, through our SDK and through the leanest
// mediasoup-client join (the baseline), alternating, against the built media server.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { roomToken } from '@telemed/test-kit';
import { parseArgs, withFreePorts } from '../common/args.js';
import { launchChromium } from '../common/chromium.js';
import { resolveWorkerBin, ROOT } from '../common/machine.js';
import { startMediaServer } from '../common/media-server.js';
import { log, startRun, table, writeResults } from '../common/results.js';
import { percentile, round } from '../common/stats.js';
import { lineChart } from '../common/svg-chart.js';
import { bundleMediasoupClient } from './bundle.js';
import { instrumentPage, measureJoin, publish, type JoinResult } from './page.js';

const args = parseArgs();
const run = startRun('join');
const workerBin = resolveWorkerBin();
const joinsPerMode = args.number('joins', args.quick ? 5 : 25);
const ROOM = 'join-bench';
/**
 * Two arrival patterns: a participant joining a live call (joins a few seconds apart), and joins
 * back to back (everyone arriving at a call's start), where each new subscriber's keyframe request
 * comes soon after the previous one's.
 */
const phases: { name: 'spaced' | 'back-to-back'; gapMs: number }[] = args.quick
  ? [{ name: 'spaced', gapMs: 2000 }]
  : [
      { name: 'spaced', gapMs: args.number('gap-ms', 2500) },
      { name: 'back-to-back', gapMs: 0 },
    ];
type Phase = (typeof phases)[number]['name'];
/** `sdk` and `baseline` join cold; `prepared` is the SDK after `room.prepareConnection()` (a waiting room), timed from connect(). */
const MODES = ['sdk', 'prepared', 'baseline'] as const;
type Mode = (typeof MODES)[number];

const sdkBundle = path.join(ROOT, 'sdk', 'dist', 'telemed-sdk.browser.mjs');
if (!fs.existsSync(sdkBundle)) throw new Error('sdk/dist/telemed-sdk.browser.mjs is missing: run `npm run build` first');
const sdkBuiltAt = fs.statSync(sdkBundle).mtime.toISOString();
const files: Record<string, { type: string; body: string | Buffer }> = {
  '/join.html': { type: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>join bench</title><body></body>' },
  '/sdk.mjs': { type: 'text/javascript', body: fs.readFileSync(sdkBundle) },
  '/mediasoup-client.mjs': { type: 'text/javascript', body: await bundleMediasoupClient() },
};
const pages = http.createServer((req, res) => {
  const file = files[new URL(req.url ?? '/', 'http://x').pathname];
  res.writeHead(file ? 200 : 404, { 'content-type': file?.type ?? 'text/plain', 'cache-control': 'max-age=3600' });
  res.end(file?.body ?? 'not found');
});
await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
const address = pages.address();
const pageUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/join.html`;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer from the page in ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

log(`bench:join${args.quick ? ' --quick' : ''}: ${joinsPerMode} joins per mode, SDK bundle built ${sdkBuiltAt}`);
// LOG_LEVEL=trace: the media server logs each join's transport states, consumer resumes, first RTP
// forwarded and every keyframe and keyframe request (media-server/src/JoinTrace.ts).
const server = await withFreePorts(3, (basePort) => startMediaServer({ workerBin, numWorkers: 2, basePort, env: { LOG_LEVEL: 'trace' } }));
interface ServerTrace {
  at: number;
  join: string;
  peerId: string;
  producer: boolean;
}
const serverTrace: ServerTrace[] = [];
let partialLine = '';
server.process.stdout?.on('data', (chunk: Buffer) => {
  const lines = (partialLine + chunk.toString()).split('\n');
  partialLine = lines.pop() ?? '';
  for (const line of lines) {
    if (!line.includes('"join trace"')) continue;
    try {
      const entry = JSON.parse(line) as { at: number; join: string; peerId: string; producerId?: string };
      serverTrace.push({ at: entry.at, join: entry.join, peerId: entry.peerId, producer: entry.producerId !== undefined });
    } catch {
      // Not a log line of ours.
    }
  }
});
/** The server's steps of one join on the page's timeline: its own peer's, and the publisher's producer's during the join. */
function withServerSteps(result: JoinResult): JoinResult {
  const { t0Epoch, participantId } = result;
  if (t0Epoch === undefined) return result;
  const end = t0Epoch + Math.max(result.videoMs ?? 0, result.audioMs ?? 0) + 50;
  const mine = serverTrace.filter((e) => (e.peerId === participantId || e.producer) && e.at >= t0Epoch - 5 && e.at <= end);
  const steps = mine.map((e) => ({ t: e.at - t0Epoch, dir: 'server' as const, what: e.join }));
  return { ...result, timeline: [...result.timeline, ...steps].sort((a, b) => a.t - b.t) };
}
let browser: Browser | undefined;
const results: { phase: Phase; mode: Mode; index: number; result: JoinResult }[] = [];
try {
  browser = await launchChromium();
  const newPage = async (): Promise<Page> => {
    const context = await browser!.newContext({ permissions: ['camera', 'microphone'] });
    const page = await context.newPage();
    await page.addInitScript(instrumentPage);
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning' || process.env.BENCH_DEBUG) log(`    [page ${m.type()}] ${m.text()}`);
    });
    page.on('pageerror', (e) => log(`    [page error] ${e.message}`));
    await page.goto(pageUrl);
    return page;
  };
  const publisher = await newPage();
  await publisher.evaluate(publish, { wsUrl: server.wsUrl, token: roomToken({ secret: server.roomTokenSecret, room: ROOM, identity: 'publisher' }) });
  log('publisher in the room with fake camera and microphone');
  const joiners = { sdk: await newPage(), prepared: await newPage(), baseline: await newPage() };
  for (const { name: phase, gapMs } of phases) {
    log(`${phase}: ${gapMs} ms between joins`);
    // One unmeasured join per mode warms the browser (codecs, module cache) and the server.
    for (let i = -1; i < joinsPerMode; i++) {
      for (const mode of i % 2 === 0 ? MODES : [...MODES].reverse()) {
        const page = joiners[mode];
        await page.reload();
        if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
        const token = roomToken({
          secret: server.roomTokenSecret,
          room: ROOM,
          identity: `${phase}-${mode}-${i}`,
          grants: { canPublish: true, canPublishData: true },
        });
        const result = await withTimeout(page.evaluate(measureJoin, { mode, wsUrl: server.wsUrl, token, timeoutMs: 15_000 }), 30_000, `${mode} join`);
        if (i >= 0) results.push({ phase, mode, index: i, result });
        const prepared = mode === 'prepared' ? ` (prepare ${result.prepareMs} ms, usable ${result.prepared})` : '';
        log(
          `  ${i < 0 ? 'warm-up' : `#${i + 1}`} ${mode}: ${result.ok ? `video ${result.videoMs} ms, audio ${result.audioMs} ms (connected ${result.connectedMs} ms)${prepared}` : `FAILED ${result.error}`}`,
        );
      }
    }
  }
} finally {
  await browser?.close();
  await server.stop();
  pages.close();
}
// The server's log lines have all arrived now (its process has ended).
for (const r of results) r.result = withServerSteps(r.result);
if (process.env.BENCH_DEBUG)
  for (const r of results) log(`${r.phase} ${r.mode} #${r.index + 1}: ${r.result.timeline.map((e) => `${e.t} ${e.dir} ${e.what}`).join(' | ')}`);

interface ModeSummary {
  phase: Phase;
  mode: string;
  joins: number;
  failures: number;
  videoP50: number;
  videoP95: number;
  audioP50: number;
  audioP95: number;
  connectedP50: number;
  /** `prepared` only: prepareConnection() time, before time zero. */
  prepareP50?: number;
  prepareP95?: number;
  /** `prepared` only: joins whose prepareConnection() reported usable. */
  preparedUsable?: number;
}

const summarize = (phase: Phase, mode: Mode): ModeSummary => {
  const mine = results.filter((r) => r.phase === phase && r.mode === mode);
  const ok = mine.filter((r) => r.result.ok).map((r) => r.result);
  const v = ok.map((r) => r.videoMs ?? Number.NaN);
  const a = ok.map((r) => r.audioMs ?? Number.NaN);
  return {
    phase,
    mode,
    joins: mine.length,
    failures: mine.filter((r) => !r.result.ok).length,
    videoP50: round(percentile(v, 50), 1),
    videoP95: round(percentile(v, 95), 1),
    audioP50: round(percentile(a, 50), 1),
    audioP95: round(percentile(a, 95), 1),
    connectedP50: round(
      percentile(
        ok.map((r) => r.connectedMs ?? Number.NaN),
        50,
      ),
      1,
    ),
    ...(mode === 'prepared'
      ? {
          prepareP50: round(
            percentile(
              mine.map((r) => r.result.prepareMs ?? Number.NaN),
              50,
            ),
            1,
          ),
          prepareP95: round(
            percentile(
              mine.map((r) => r.result.prepareMs ?? Number.NaN),
              95,
            ),
            1,
          ),
          preparedUsable: mine.filter((r) => r.result.prepared).length,
        }
      : {}),
  };
};
const summaries = phases.flatMap(({ name }) => MODES.map((mode) => summarize(name, mode)));
const pick = (phase: Phase, mode: string): ModeSummary => summaries.find((s) => s.phase === phase && s.mode === mode) as ModeSummary;

/** Median time of the first occurrence of each timeline event, per mode: where the time goes. */
function medianTimeline(phase: Phase, mode: Mode): [string, number][] {
  const byEvent = new Map<string, number[]>();
  for (const r of results.filter((x) => x.phase === phase && x.mode === mode && x.result.ok)) {
    const seen = new Set<string>();
    for (const e of r.result.timeline) {
      const arrow = { out: '→', in: '←', page: 'page:', server: 'server:' }[e.dir];
      const key = `${arrow} ${e.what.replace(/ #\d+$/, '').replace(/^response$/, 'response')}`;
      const label = e.what.startsWith('response') ? `${key} (${[...seen].filter((s) => s.startsWith('→')).length})` : key;
      if (seen.has(label)) continue;
      seen.add(label);
      byEvent.set(label, [...(byEvent.get(label) ?? []), e.t]);
    }
    for (const [label, t] of [
      ['first video frame', r.result.videoMs],
      ['audio flowing', r.result.audioMs],
    ] as const) {
      if (t !== undefined) byEvent.set(label, [...(byEvent.get(label) ?? []), t]);
    }
  }
  return [...byEvent.entries()].map(([label, ts]): [string, number] => [label, round(percentile(ts, 50), 1)]).sort((a, b) => a[1] - b[1]);
}

const ratio = (a: number, b: number): string => (b ? String(round(a / b, 3)) : '–');
const verdict = (s: ModeSummary, b: ModeSummary): string =>
  `p50 ${s.videoP50 <= 300 ? '≤' : '>'} 300 ms, p95 ${s.videoP95 <= 600 ? '≤' : '>'} 600 ms, ${s.videoP50 < b.videoP50 ? 'below' : 'not below'} the baseline p50`;
const summary = [
  `${joinsPerMode} measured joins per mode and arrival pattern after one warm-up each, rotating SDK cold, SDK prepared and baseline (ABC CBA order), each a fresh page load in its own browser context, into a room where one publisher (the SDK in another page, fake 640x360 camera and microphone) is live. ` +
    `Time zero is the connect call (\`room.connect()\` / \`new WebSocket()\`); modules are loaded before it. The SDK bundle is sdk/dist/telemed-sdk.browser.mjs built ${sdkBuiltAt}; the baseline bundles the same mediasoup-client with the same rollup plugins.`,
  '',
  'Modes: **sdk** = our SDK, cold `room.connect()`. **prepared** = our SDK after `await room.prepareConnection(url, token)` (what a waiting room gives: the signaling socket is open and welcomed, the Device loaded); its time zero is the `connect()` call, so its figures **exclude** the waiting-room work, whose own duration is the `prepare p50 / p95` column. **baseline** = cold, no preparation (the socket opens at time zero).',
  '',
  'Baseline: the leanest mediasoup-client join — welcome → `device.load` → createTransport(recv) → join → for each consumer: `consume` → resumeConsumer, each request waiting for the one before; no send transport, no data channel.',
  '',
  table(
    [
      'arrival',
      'gap ms',
      'mode',
      'joins',
      'failed',
      'first video frame p50 / p95 ms',
      'audio flowing p50 / p95 ms',
      'connected p50 ms',
      'prepare p50 / p95 ms (before time zero)',
    ],
    summaries.map((s) => [
      s.phase,
      phases.find((p) => p.name === s.phase)?.gapMs ?? '',
      s.mode === 'baseline' ? 'baseline (cold)' : s.mode === 'sdk' ? 'sdk (cold)' : 'sdk prepared',
      s.joins,
      s.failures,
      `${s.videoP50} / ${s.videoP95}`,
      `${s.audioP50} / ${s.audioP95}`,
      s.connectedP50,
      s.prepareP50 === undefined ? '–' : `${s.prepareP50} / ${s.prepareP95} (${s.preparedUsable}/${s.joins} usable)`,
    ]),
  ),
  '',
  ...phases.flatMap(({ name }) => {
    const sdk = pick(name, 'sdk');
    const baseline = pick(name, 'baseline');
    const prepared = pick(name, 'prepared');
    return [
      `**${name}**: ratio SDK ÷ baseline, first video frame p50 ${ratio(sdk.videoP50, baseline.videoP50)}, p95 ${ratio(sdk.videoP95, baseline.videoP95)}; audio p50 ${ratio(sdk.audioP50, baseline.audioP50)}. ` +
        `Target (p50 ≤ 300 ms, p95 ≤ 600 ms, below the baseline): SDK ${verdict(sdk, baseline)}.`,
      '',
      `**${name}, prepared**: ratio SDK prepared ÷ baseline (cold), first video frame p50 ${ratio(prepared.videoP50, baseline.videoP50)}, p95 ${ratio(prepared.videoP95, baseline.videoP95)}; audio p50 ${ratio(prepared.audioP50, baseline.audioP50)}; ` +
        `prepared ÷ SDK cold, video p50 ${ratio(prepared.videoP50, sdk.videoP50)}. SDK prepared: ${verdict(prepared, baseline)} (the prepare itself, p50 ${prepared.prepareP50} ms, is not counted).`,
      '',
    ];
  }),
  '## Where the time goes (median time of each signaling message, ms after the connect call)',
  '',
  '→ sent by the page, ← received; `response (n)` is the first response after n requests were sent. ' +
    "`page:` a step seen in the page (its peer connections' ICE and connection states, the video receiver's stats polled every 10 ms). " +
    "`server:` a step in the media server's join trace (LOG_LEVEL=trace, media-server/src/JoinTrace.ts): transport ICE/DTLS states, consumer resumed, " +
    "the first RTP packet a consumer forwarded, keyframe requests sent to the publisher (`producer pli out`) and keyframes from it (`producer keyframe in`), placed on the page's clock.",
  '',
  ...phases.flatMap(({ name }) => MODES.flatMap((mode) => [`### ${name}, ${mode}`, '', table(['event', 'median ms'], medianTimeline(name, mode)), ''])),
].join('\n');

const cdf = (phase: Phase, mode: Mode, key: 'videoMs' | 'audioMs'): [number, number][] => {
  const values = results
    .filter((r) => r.phase === phase && r.mode === mode && r.result.ok)
    .map((r) => r.result[key] ?? Number.NaN)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  return values.map((v, i): [number, number] => [v, (i + 1) / values.length]);
};
writeResults(run, {
  raw: { joinsPerMode, phases, sdkBuiltAt, summaries, joins: results },
  summary,
  plots: Object.fromEntries(
    phases.map(({ name }) => [
      `cdf-${name}`,
      lineChart({
        title: `Join → first remote video frame / audio, ${name} joins`,
        xLabel: 'ms after the connect call',
        yLabel: 'share of joins done (cumulative)',
        yMin: 0,
        yMax: 1,
        series: [
          { name: 'SDK video', points: cdf(name, 'sdk', 'videoMs') },
          { name: 'SDK prepared video', points: cdf(name, 'prepared', 'videoMs') },
          { name: 'baseline video', points: cdf(name, 'baseline', 'videoMs'), dashed: true },
          { name: 'SDK audio', points: cdf(name, 'sdk', 'audioMs') },
          { name: 'baseline audio', points: cdf(name, 'baseline', 'audioMs'), dashed: true },
        ],
      }),
    ]),
  ),
});
process.exit(0);
