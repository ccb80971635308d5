// bench:signaling — joins per second one media-server node sustains, and memory per idle
// participant; baseline: a bare ws + mediasoup server doing the same join (bare-server.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOT_SIGNALING, roomToken, TestSignalingClient, WaitAborted, waitFor } from '@telemed/test-kit';
import { parseArgs, withFreePorts } from '../common/args.js';
import { resolveWorkerBin } from '../common/machine.js';
import { startMediaServer } from '../common/media-server.js';
import { childPids, CpuMeter, rssBytes } from '../common/proc.js';
import { log, startRun, table, writeResults } from '../common/results.js';
import { signalingPlots } from './plots.js';
import { leastSquares, percentile, round } from '../common/stats.js';

const args = parseArgs();
const run = startRun('signaling');
const workerBin = resolveWorkerBin();
const NUM_WORKERS = 2;
const ROOM_SIZE = 10;
const durationMs = args.number('duration', args.quick ? 2000 : 10_000);
const concurrencies = args.quick ? [4, 16] : [1, 4, 16, 32];
const idleSteps = args.quick ? [0, 60, 120] : [0, 150, 300, 450, 600];
const settleMs = args.quick ? 800 : 1500;

interface Target {
  name: 'platform' | 'bare';
  wsUrl: string;
  secret: string;
  pid: number;
  stop(): Promise<void>;
}

async function startBare(basePort: number): Promise<Target> {
  const secret = randomBytes(32).toString('base64url');
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bare-server.js');
  const child: ChildProcess = spawn(process.execPath, [script, String(basePort), String(basePort + 1), String(NUM_WORKERS), secret], {
    env: { ...process.env, MEDIASOUP_WORKER_BIN: workerBin },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let ready = false;
  child.stdout?.on('data', (chunk: Buffer) => (ready ||= chunk.toString().includes('listening')));
  await waitFor(
    'the bare server',
    () => {
      if (child.exitCode !== null) throw new WaitAborted(`bare server exited (${child.exitCode})`);
      return ready ? true : undefined;
    },
    { timeoutMs: 20_000 },
  );
  return {
    name: 'bare',
    wsUrl: `ws://127.0.0.1:${basePort}`,
    secret,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function startPlatform(basePort: number): Promise<Target> {
  const server = await startMediaServer({ workerBin, numWorkers: NUM_WORKERS, basePort });
  return { name: 'platform', wsUrl: server.wsUrl, secret: server.roomTokenSecret, pid: server.process.pid ?? 0, stop: server.stop };
}

/** Everything a participant does to join, short of ICE/DTLS: welcome, two transports, join. */
async function join(target: Target, room: string, identity: string): Promise<TestSignalingClient> {
  const client = await TestSignalingClient.connect({ url: target.wsUrl, token: roomToken({ secret: target.secret, room, identity }), ...BOT_SIGNALING });
  await client.request('createTransport', { direction: 'send' });
  await client.request('createTransport', { direction: 'recv' });
  await client.request('join', { rtpCapabilities: client.welcome.routerRtpCapabilities });
  return client;
}

const processes = (target: Target): number[] => [target.pid, ...childPids(target.pid, 'mediasoup-worker')];
const rssMiB = (target: Target): number => processes(target).reduce((n, pid) => n + rssBytes(pid), 0) / 2 ** 20;

interface ThroughputResult {
  target: string;
  concurrency: number;
  joins: number;
  joinsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  errors: number;
  serverCpu: number;
  /** CPU of this bench process, which runs every client. */
  clientCpu: number;
  rounds: number;
}

async function throughput(target: Target, concurrency: number): Promise<ThroughputResult> {
  const latencies: number[] = [];
  let errors = 0;
  let stop = false;
  const nonce = randomBytes(3).toString('hex');
  const meter = new CpuMeter([process.pid, ...processes(target)]);
  meter.start();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      for (let i = 0; !stop; i++) {
        const t0 = performance.now();
        try {
          const client = await join(target, `tp-${nonce}-${loop}`, `u-${loop}-${i}`);
          latencies.push(performance.now() - t0);
          // An explicit leave: a dropped socket keeps its seat for a while (session resume).
          await client.leave();
        } catch (error) {
          if (errors++ === 0) log(`  first error: ${(error as Error).message}`);
        }
        if (performance.now() - started >= durationMs) stop = true;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const [clientCpu = 0, ...serverCpus] = meter.stop();
  const cpu = serverCpus.reduce((a, b) => a + b, 0);
  const result = {
    target: target.name,
    concurrency,
    joins: latencies.length,
    joinsPerSecond: round(latencies.length / seconds, 1),
    p50Ms: round(percentile(latencies, 50), 1),
    p95Ms: round(percentile(latencies, 95), 1),
    errors,
    serverCpu: round(cpu, 2),
    clientCpu: round(clientCpu, 2),
    rounds: 1,
  };
  log(
    `  ${target.name} concurrency ${concurrency}: ${result.joinsPerSecond} joins/s, p50 ${result.p50Ms} ms, p95 ${result.p95Ms} ms, server CPU ${result.serverCpu} cores, client CPU ${result.clientCpu}, ${errors} errors`,
  );
  return result;
}

/** The mean of several rounds of one target at one concurrency. */
function combine(rounds: ThroughputResult[]): ThroughputResult {
  const avg = (f: (r: ThroughputResult) => number): number => round(rounds.reduce((n, r) => n + f(r), 0) / rounds.length, 1);
  const first = rounds[0] as ThroughputResult;
  return {
    ...first,
    joins: rounds.reduce((n, r) => n + r.joins, 0),
    joinsPerSecond: avg((r) => r.joinsPerSecond),
    p50Ms: avg((r) => r.p50Ms),
    p95Ms: avg((r) => r.p95Ms),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    serverCpu: round(avg((r) => r.serverCpu * 100) / 100, 2),
    clientCpu: round(avg((r) => r.clientCpu * 100) / 100, 2),
    rounds: rounds.length,
  };
}

interface IdleResult {
  target: string;
  steps: { participants: number; rssMiB: number }[];
  kibPerParticipant: number;
}

async function idleMemory(target: Target): Promise<IdleResult> {
  const clients: TestSignalingClient[] = [];
  const steps: IdleResult['steps'] = [];
  const nonce = randomBytes(3).toString('hex');
  try {
    for (const goal of idleSteps) {
      while (clients.length < goal) {
        const batch = Array.from({ length: Math.min(16, goal - clients.length) }, (_, k) => clients.length + k);
        clients.push(...(await Promise.all(batch.map((n) => join(target, `idle-${nonce}-${Math.floor(n / ROOM_SIZE)}`, `idle-${n}`)))));
      }
      await new Promise((resolve) => setTimeout(resolve, settleMs)); // let allocations settle
      steps.push({ participants: clients.length, rssMiB: round(rssMiB(target), 1) });
    }
  } finally {
    await Promise.all(clients.map((c) => c.leave()));
  }
  // Least-squares slope over every step: one step's garbage collection moves it less than a two-point slope.
  const kib = leastSquares(steps.map((p) => [p.participants, p.rssMiB])).slope * 1024;
  log(`  ${target.name}: ${steps.map((s) => `${s.participants} → ${s.rssMiB} MiB`).join(', ')}; ${round(kib, 1)} KiB per idle participant`);
  return { target: target.name, steps, kibPerParticipant: round(kib, 1) };
}

log(
  `bench:signaling${args.quick ? ' --quick' : ''}: joins/s at concurrency ${concurrencies.join('/')}, ${durationMs / 1000} s each; idle participants ${idleSteps.join('/')}`,
);
let bare = await withFreePorts(1 + NUM_WORKERS, startBare);
let platform = await withFreePorts(1 + NUM_WORKERS, startPlatform);
const tp: ThroughputResult[] = [];
const idle: IdleResult[] = [];
try {
  for (const c of concurrencies) {
    log(`throughput, concurrency ${c}`);
    // ABBA order in full runs: a load change on the shared machine hits both targets alike.
    const order = args.quick ? [bare, platform] : [bare, platform, platform, bare];
    const rounds: ThroughputResult[] = [];
    for (const target of order) rounds.push(await throughput(target, c));
    for (const name of ['bare', 'platform']) tp.push(combine(rounds.filter((r) => r.target === name)));
  }
  // Fresh processes: the throughput phase's garbage would otherwise be collected during the memory steps.
  await platform.stop();
  await bare.stop();
  bare = await withFreePorts(1 + NUM_WORKERS, startBare);
  platform = await withFreePorts(1 + NUM_WORKERS, startPlatform);
  log('memory per idle participant (fresh server processes)');
  for (const target of [bare, platform]) idle.push(await idleMemory(target));
} finally {
  await platform.stop();
  await bare.stop();
}

const pick = (target: string, c: number): ThroughputResult | undefined => tp.find((r) => r.target === target && r.concurrency === c);
const idleOf = (target: string): IdleResult | undefined => idle.find((r) => r.target === target);
const summary = [
  `A join is what a participant does before ICE/DTLS: open /rtc?token=JWT, receive the welcome, create the send and recv WebRtcTransports and send join. ` +
    `Closed loop: each of the concurrent clients joins (a room per client), leaves and joins again for ${durationMs / 1000} s${args.quick ? '' : ', twice per target in ABBA order (figures are the mean)'}. Both servers run ${NUM_WORKERS} mediasoup workers in their own process; the clients run in the bench process on the same machine.`,
  '',
  '## Joins per second',
  '',
  table(
    [
      'concurrency',
      'platform joins/s',
      'bare joins/s',
      'ratio (p/b)',
      'platform p50 / p95 ms',
      'bare p50 / p95 ms',
      'server CPU p / b (cores)',
      'client CPU p / b',
      'errors (p/b)',
    ],
    concurrencies.map((c) => {
      const p = pick('platform', c);
      const b = pick('bare', c);
      return [
        c,
        p?.joinsPerSecond ?? '–',
        b?.joinsPerSecond ?? '–',
        p && b ? round(p.joinsPerSecond / b.joinsPerSecond, 3) : '–',
        p ? `${p.p50Ms} / ${p.p95Ms}` : '–',
        b ? `${b.p50Ms} / ${b.p95Ms}` : '–',
        `${p?.serverCpu ?? '–'} / ${b?.serverCpu ?? '–'}`,
        `${p?.clientCpu ?? '–'} / ${b?.clientCpu ?? '–'}`,
        `${p?.errors ?? '–'} / ${b?.errors ?? '–'}`,
      ];
    }),
  ),
  '',
  '## Memory per idle participant',
  '',
  `In fresh server processes, participants join rooms of ${ROOM_SIZE} and stay connected without media; resident memory of the server process and its workers is read at each step; the least-squares slope over the steps is the cost per participant (Node's garbage collection makes single steps noisy).`,
  '',
  table(
    ['target', ...idleSteps.map((n) => `${n} idle: RSS MiB`), 'KiB per idle participant'],
    idle.map((r) => [r.target, ...r.steps.map((s) => s.rssMiB), r.kibPerParticipant]),
  ),
  '',
  `Ratio platform ÷ bare, memory per idle participant: ${idleOf('platform') && idleOf('bare')?.kibPerParticipant ? round((idleOf('platform')?.kibPerParticipant ?? 0) / (idleOf('bare')?.kibPerParticipant ?? 1), 2) : '–'}`,
].join('\n');

writeResults(run, {
  raw: { durationMs, concurrencies, roomSize: ROOM_SIZE, throughput: tp, idle },
  summary,
  plots: signalingPlots(tp, idle),
});
process.exit(0);
