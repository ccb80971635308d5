// bench:load — many simulated users at once through the built API (PostgreSQL) and media server:
// every user signs in and keeps its /events socket (presence), pairs chat with delivery and read
// receipts, and 1:1 calls are placed, accepted and carried by SFU bots (real RTP through mediasoup)
// in steps, every step held while it is measured, until loss or errors start. The clients are the
// SDK's own TelemedClient (Node, `ws`); the media is the bench:sfu bots (PlainTransports with SRTP).
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { TelemedClient, type Message, type Presence } from '@telemed/sdk';
import { BOT_SIGNALING, roomToken, TestSignalingClient, waitFor } from '@telemed/test-kit';
import { generateSecrets, startPlatform, type Platform } from '../../../scripts/platform.mjs';
import { BackendCpuMeter, createDatabase, DatabaseStats } from '../api/postgres.js';
import { seed, type Seeded } from '../api/seed.js';
import { parseArgs, withFreePorts } from '../common/args.js';
import { resolveWorkerBin, ROOT } from '../common/machine.js';
import { childPids, CpuMeter, rssBytes, udpReceiveBufferErrors } from '../common/proc.js';
import { log, startRun, table, writeResults } from '../common/results.js';
import { percentile, round } from '../common/stats.js';
import { lineChart } from '../common/svg-chart.js';
import { Bot, BotSide } from '../sfu/bots.js';
import { DEFAULT_PROFILE, type StreamProfile } from '../sfu/rtp.js';
import { Pacer } from '../sfu/scenario.js';
import { PlatformSession } from '../sfu/targets.js';

const args = parseArgs();
const run = startRun('load');
const userCount = args.number('users', args.quick ? 20 : 200);
const pairs = Math.floor(userCount / 2);
const callStep = args.number('call-step', args.quick ? 5 : 10);
const maxCalls = Math.min(pairs, args.number('max-calls', pairs));
// The ramp goes on to at least this many calls even after loss started, so the load asked for is held and measured.
const holdCalls = Math.min(maxCalls, args.number('hold-calls', args.quick ? 5 : 50));
const stepMs = args.number('step-s', args.quick ? 8 : 20) * 1000;
const messageEveryMs = args.number('message-every-s', 15) * 1000;
const loginBatch = args.number('login-batch', 20);
const lossLimit = 0.01;
const profile: StreamProfile = { ...DEFAULT_PROFILE, videoBitrate: args.number('video-bitrate', 800_000) };
const workerBin = resolveWorkerBin();
const APPLICATION_NAME = 'bench-load-api';

log(
  `bench:load${args.quick ? ' --quick' : ''}: ${userCount} users (${pairs} patient–doctor pairs), calls in steps of ${callStep} up to ${maxCalls}, ${stepMs / 1000} s per step, a message every ${messageEveryMs / 1000} s per user, video ${profile.videoBitrate / 1000} kbit/s`,
);
const database = createDatabase();
const secrets = generateSecrets();
const dbUrl = new URL(database.url);
dbUrl.searchParams.set('application_name', APPLICATION_NAME);
let platform: Platform | undefined;
let side: BotSide | undefined;
let stats: DatabaseStats | undefined;
const cleanup = async (): Promise<void> => {
  await platform?.stop();
  side?.close();
  await stats?.close();
  database.drop();
};

// --- measurements -----------------------------------------------------------------------------
const latencies = new Map<string, { at: number; ms: number }[]>();
const errors: { at: number; op: string; message: string }[] = [];
function record(op: string, ms: number): void {
  const list = latencies.get(op) ?? [];
  list.push({ at: Date.now(), ms });
  latencies.set(op, list);
}
function failed(op: string, error: unknown): void {
  errors.push({ at: Date.now(), op, message: error instanceof Error ? error.message : String(error) });
  if (errors.length <= 20) log(`  error in ${op}: ${error instanceof Error ? error.message : String(error)}`);
}
async function timed<T>(op: string, fn: () => Promise<T>): Promise<T | undefined> {
  const started = performance.now();
  try {
    const value = await fn();
    record(op, performance.now() - started);
    return value;
  } catch (error) {
    failed(op, error);
    return undefined;
  }
}

// --- the users ----------------------------------------------------------------------------------
interface VirtualUser {
  index: number;
  id: string;
  email: string;
  client: TelemedClient;
  partner: number;
  conversationId: string;
  /** When its /events socket said ready (presence online), for the partner's presence latency. */
  onlineAt?: number;
  /**
   * Whether the partner's coming online has been seen, measured once and only when the partner came
   * online after this user's /events was ready (before it, there is no event: the app reads the
   * presence list); later updates are calls' busy → online.
   */
  sawPartnerOnline?: boolean;
}
const sentAt = new Map<string, number>(); // clientId → when the POST started
const readAt = new Map<number, number>(); // message id → when the partner's read POST started
const ringAt = new Map<string, number>(); // call id → when startCall returned
let stopping = false;

function wire(user: VirtualUser, users: VirtualUser[]): void {
  const { client } = user;
  client.on('eventsConnected', () => {
    user.onlineAt ??= Date.now();
  });
  client.on('presence.updated', (presence: Presence) => {
    const partner = users[user.partner]!;
    const cameOnlineAt = partner.onlineAt;
    const cameAfterMe = cameOnlineAt !== undefined && user.onlineAt !== undefined && cameOnlineAt >= user.onlineAt;
    if (presence.userId === partner.id && presence.status === 'online' && cameAfterMe && !user.sawPartnerOnline) {
      user.sawPartnerOnline = true;
      record('presence online → partner', Date.now() - cameOnlineAt);
    }
  });
  client.on('message.created', ({ message }: { message: Message }) => {
    if (message.senderId === user.id) return;
    const started = sentAt.get(message.clientId);
    if (started !== undefined) record('message → partner event', Date.now() - started);
    if (stopping) return;
    void (async () => {
      await timed('mark delivered', () => client.markDelivered(message.conversationId, message.id));
      readAt.set(message.id, Date.now());
      await timed('mark read', () => client.markRead(message.conversationId, message.id));
    })();
  });
  client.on('message.read', (receipt: { userId: string; upToMessageId: number }) => {
    if (receipt.userId === user.id) return;
    const started = readAt.get(receipt.upToMessageId);
    if (started !== undefined) {
      record('read receipt → sender event', Date.now() - started);
      readAt.delete(receipt.upToMessageId);
    }
  });
  client.on('call.ringing', ({ call }: { call: { id: string } }) => {
    const started = ringAt.get(call.id);
    if (started !== undefined) record('call ringing → callee event', Date.now() - started);
    rung.add(call.id);
  });
}

// --- the calls ----------------------------------------------------------------------------------
interface LiveCall {
  id: string;
  bots: Bot[];
  patient: VirtualUser;
}
const rung = new Set<string>();
const calls: LiveCall[] = [];
const claimsOf = (token: string): { room: string; sub: string } =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { room: string; sub: string };

async function placeCall(patient: VirtualUser, doctor: VirtualUser, wsUrl: string, pacer: Pacer): Promise<void> {
  const call = await timed('start call', () => patient.client.startCall({ type: 'video', inviteeIds: [doctor.id] }));
  if (!call) return;
  ringAt.set(call.id, Date.now());
  // The callee answers once it was rung (its /events socket), as an app would.
  const wasRung = await waitFor('the call.ringing event', () => (rung.has(call.id) ? true : undefined), { timeoutMs: 30_000, intervalMs: 10 }).catch(
    (error: unknown) => failed('call ringing event', error),
  );
  if (!wasRung) return;
  const accepted = await timed('accept call', () => doctor.client.acceptCall(call.id));
  const callerAccess = await timed('call token', () => patient.client.callToken(call.id));
  if (!accepted || !callerAccess) return;
  // The bots join the call's room as its participants: room and identity from the tokens the API
  // issued; the media path (PlainTransports) needs the load-test grant, signed with the same secret.
  const live: LiveCall = { id: call.id, bots: [], patient };
  const joinStarted = performance.now();
  try {
    for (const access of [callerAccess, accepted.access]) {
      const { room, sub } = claimsOf(access.token);
      const token = roomToken({ secret: secrets.roomTokenSecret, room, identity: sub, grants: { loadTest: true } });
      live.bots.push(new Bot(side!, sub, new PlatformSession(await TestSignalingClient.connect({ url: wsUrl, token, ...BOT_SIGNALING }))));
    }
    await Promise.all(live.bots.map((b) => b.start({ subscribe: true, profile })));
    for (const bot of live.bots) pacer.add(bot);
    await Promise.all(live.bots.map((b) => b.settled()));
    await waitFor('media both ways', async () => ((await Promise.all(live.bots.map((b) => b.counts()))).every((c) => c.received > 0) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    record('call join → media both ways', performance.now() - joinStarted);
    calls.push(live);
  } catch (error) {
    failed('call media', error);
    for (const bot of live.bots) pacer.remove(bot);
    await Promise.all(live.bots.map((b) => b.close().catch(() => undefined)));
  }
}

// --- per-step measurement ----------------------------------------------------------------------
interface ProcessFigure {
  name: string;
  cpuCores: number;
  rssMiB: number;
}
interface Step {
  step: number;
  calls: number;
  usersOnline: number;
  durationS: number;
  sentPackets: number;
  receivedPackets: number;
  lossRatio: number;
  udpRcvbufErrors: number;
  errors: number;
  requests: number;
  p50: Record<string, number>;
  p99: Record<string, number>;
  processes: ProcessFigure[];
  loadAverage: number;
}
const steps: Step[] = [];
let errorsCounted = 0;

async function packetTotals(): Promise<{ sent: number; received: number }> {
  let sent = 0;
  let received = 0;
  for (const call of calls) {
    for (const c of await Promise.all(call.bots.map((b) => b.counts()))) {
      sent += c.sentVideo + c.sentAudio; // each call's publisher has exactly one subscriber
      received += c.received;
    }
  }
  return { sent, received };
}

async function measureStep(step: number, usersOnline: number): Promise<Step> {
  const mediaPid = platform!.processes.media.pid ?? 0;
  const apiPid = platform!.processes.api.pid ?? 0;
  const workers = childPids(mediaPid, 'mediasoup-worker');
  const named: [string, number][] = [
    ['api', apiPid],
    ['media server (node)', mediaPid],
    ...workers.map((pid, i) => [`sfu worker ${i}`, pid] as [string, number]),
    ['bot worker (bench)', side!.worker.pid],
    ['bench (clients)', process.pid],
  ];
  const meter = new CpuMeter(named.map(([, pid]) => pid));
  const pg = new BackendCpuMeter(stats!, APPLICATION_NAME);
  const from = Date.now();
  // Errors since the previous step's end: the calls placed for this step count too.
  const errorsBefore = errorsCounted;
  const udpBefore = udpReceiveBufferErrors();
  const before = await packetTotals();
  meter.start();
  await pg.start();
  await new Promise((resolve) => setTimeout(resolve, stepMs));
  const cpu = meter.stop();
  const pgCpu = await pg.stop();
  // Let what is in flight arrive before the counters are read (the senders keep going: a short tail).
  const after = await packetTotals();
  const expected = after.sent - before.sent;
  const receivedPackets = after.received - before.received;
  const p50: Record<string, number> = {};
  const p99: Record<string, number> = {};
  let requests = 0;
  for (const [op, list] of latencies) {
    const window = list.filter((l) => l.at >= from).map((l) => l.ms);
    requests += window.length;
    if (window.length === 0) continue;
    p50[op] = round(percentile(window, 50), 1);
    p99[op] = round(percentile(window, 99), 1);
  }
  return {
    step,
    calls: calls.length,
    usersOnline,
    durationS: round((Date.now() - from) / 1000, 1),
    sentPackets: expected,
    receivedPackets,
    lossRatio: expected > 0 ? round(Math.max(0, 1 - receivedPackets / expected), 4) : 0,
    udpRcvbufErrors: udpReceiveBufferErrors() - udpBefore,
    errors: (errorsCounted = errors.length) - errorsBefore,
    requests,
    p50,
    p99,
    processes: [
      ...named.map(([name, pid], i) => ({ name, cpuCores: round(cpu[i] ?? 0, 3), rssMiB: round(rssBytes(pid) / 2 ** 20, 1) })),
      { name: 'postgres backends (API pool)', cpuCores: round(pgCpu, 3), rssMiB: 0 },
    ],
    loadAverage: round(os.loadavg()[0]!, 2),
  };
}

function logStep(s: Step): void {
  const busiest = [...s.processes]
    .sort((a, b) => b.cpuCores - a.cpuCores)
    .slice(0, 3)
    .map((p) => `${p.name} ${p.cpuCores}`)
    .join(', ');
  log(
    `step ${s.step}: ${s.calls} calls, ${s.usersOnline} users online: loss ${(s.lossRatio * 100).toFixed(2)} % (${s.receivedPackets}/${s.sentPackets} pkts, kernel drops ${s.udpRcvbufErrors}), errors ${s.errors}, ${s.requests} ops; send p99 ${s.p99['send message'] ?? '-'} ms; busiest (cores): ${busiest}; load ${s.loadAverage}`,
  );
}

// --- the run ------------------------------------------------------------------------------------
let seeded: Seeded;
const users: VirtualUser[] = [];
const pacerRef: { pacer?: Pacer } = {};
let saturatedAt: Step | undefined;
const messageTimers: NodeJS.Timeout[] = [];
try {
  platform = await withFreePorts(4, (base) =>
    startPlatform({
      apiPort: base,
      mediaPort: base + 1,
      rtcBasePort: base + 2,
      numWorkers: 2,
      mode: 'production',
      workerBin,
      secrets,
      logLevel: 'info',
      startTimeoutMs: 180_000,
      logDir: path.join(ROOT, 'test-results', 'logs', 'bench-load'),
      apiEnv: {
        DATABASE_URL: dbUrl.toString(),
        // Every simulated user signs in from 127.0.0.1: the per-address login limit (30 a minute by
        // default, against password guessing from one address) would refuse all but 30. Raised for
        // the bench; the per-account limit (10 a minute) and the message limit (120 a minute) stay.
        LOGIN_ADDRESS_RATE_LIMIT: String(Math.max(1000, userCount * 4)),
      },
      mediaEnv: { MAX_PARTICIPANTS_PER_ROOM: '4' },
    }),
  );
  seeded = await seed(database.url, secrets.encryptionKey, { users: pairs * 2, doctors: pairs, conversations: pairs, messages: pairs * 20, calls: 0 });
  stats = await DatabaseStats.connect(database.url);
  side = await BotSide.create();
  const pacer = new Pacer([]);
  pacerRef.pacer = pacer;
  pacer.start();

  // Users: doctor k and patient conversations[k].patient chat and call each other.
  for (const conversation of seeded.conversations) {
    for (const [self, other] of [
      [conversation.patient, conversation.doctor],
      [conversation.doctor, conversation.patient],
    ] as const) {
      const u = seeded.users[self]!;
      users[self] = {
        index: self,
        id: u.id,
        email: u.email,
        partner: other,
        conversationId: conversation.id,
        client: new TelemedClient({ baseUrl: platform.apiUrl, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket }),
      };
    }
  }
  // Sign-in order by pair (patient, then its doctor), so a partner is online soon after each user.
  const everyone = seeded.conversations.flatMap((c) => [users[c.patient]!, users[c.doctor]!]);
  for (const user of everyone) wire(user, users);

  // Ramp 1: sign-in and /events, in batches.
  let online = 0;
  for (let i = 0; i < everyone.length; i += loginBatch) {
    const batch = everyone.slice(i, i + loginBatch);
    await Promise.all(
      batch.map(async (user) => {
        if (!(await timed('login', () => user.client.login(user.email, seeded.password)))) return;
        const opened = performance.now();
        user.client.connectEvents();
        await waitFor(`${user.email} /events ready`, () => (user.onlineAt !== undefined ? true : undefined), { timeoutMs: 30_000, intervalMs: 10 }).then(
          () => record('/events connect → ready', performance.now() - opened),
          (error: unknown) => failed('/events connect', error),
        );
        online++;
        // Chat: a message every messageEveryMs at the user's own phase.
        const send = (): void => {
          const clientId = randomUUID();
          sentAt.set(clientId, Date.now());
          void timed('send message', () => user.client.sendMessage(user.conversationId, `load test message ${clientId.slice(0, 8)}`, { clientId, retries: 0 }));
        };
        const timer = setTimeout(() => {
          send();
          messageTimers.push(setInterval(send, messageEveryMs));
        }, Math.random() * messageEveryMs);
        messageTimers.push(timer);
      }),
    );
    log(`signed in and online: ${online}/${everyone.length}`);
  }
  await timed('presence list', () => everyone[0]!.client.presence());
  let stepNo = 0;
  const first = await measureStep(stepNo++, online);
  steps.push(first);
  logStep(first);

  // Ramp 2: calls in steps, each held and measured, until loss or errors start (or every pair calls).
  const wsUrl = platform.mediaWsUrl;
  const free = seeded.conversations.map((c) => ({ patient: users[c.patient]!, doctor: users[c.doctor]! }));
  while (calls.length < maxCalls) {
    const target = Math.min(maxCalls, calls.length + callStep);
    const batch = free.splice(0, target - calls.length);
    await Promise.all(batch.map((pair) => placeCall(pair.patient, pair.doctor, wsUrl, pacer)));
    const step = await measureStep(stepNo++, online);
    steps.push(step);
    logStep(step);
    if (!saturatedAt && (step.lossRatio > lossLimit || step.errors > 0)) {
      saturatedAt = step;
      log(`loss or errors started at ${step.calls} calls`);
    }
    if (saturatedAt && calls.length >= holdCalls) {
      log(`holding one more step at ${calls.length} calls to confirm, then stopping the ramp`);
      const confirm = await measureStep(stepNo++, online);
      steps.push(confirm);
      logStep(confirm);
      break;
    }
  }
  stopping = true;
  for (const t of messageTimers) clearTimeout(t);
  pacer.stop();
  for (const call of calls) await Promise.all(call.bots.map((b) => b.close().catch(() => undefined)));
  await Promise.all(calls.map((call) => timed('end call', () => call.patient.client.endCall(call.id))));
  for (const user of everyone) user.client.disconnectEvents();
} finally {
  stopping = true;
  for (const t of messageTimers) clearTimeout(t);
  pacerRef.pacer?.stop();
  await cleanup();
}

// --- the report ---------------------------------------------------------------------------------
const ops = [...latencies.keys()];
const overall = ops.map((op) => {
  const values = (latencies.get(op) ?? []).map((l) => l.ms);
  return [
    op,
    values.length,
    round(percentile(values, 50), 1),
    round(percentile(values, 99), 1),
    round(Math.max(...values), 1),
    errors.filter((e) => e.op === op).length,
  ];
});
const errorOps = [...new Set(errors.map((e) => e.op))]
  .filter((op) => !ops.includes(op))
  .map((op) => [op, 0, '-', '-', '-', errors.filter((e) => e.op === op).length]);
const last = steps.at(-1);
const clean = steps.filter((s) => s.lossRatio <= lossLimit && s.errors === 0);
const capacity = clean.at(-1);
const processNames = last?.processes.map((p) => p.name) ?? [];
const summary = [
  `${users.filter(Boolean).length} simulated users (SDK TelemedClient in Node, one per user) against the built API (production mode, PostgreSQL ${database.serverVersion},`,
  `DATABASE_POOL_SIZE 10) and the built media server (2 mediasoup workers). Users sign in (POST /api/auth/login) in batches of ${loginBatch} and open /events;`,
  `every user sends a message to its patient–doctor conversation every ${messageEveryMs / 1000} s (random phase); the partner marks it delivered and read on`,
  `the message.created event, and the sender's message.read event closes the receipt loop. Then 1:1 video calls are placed in steps of ${callStep}:`,
  `the patient starts the call, the doctor accepts on the call.ringing event, the patient fetches its room token; two SFU bots join the call's`,
  `room as the two participants (room and identity from the API's tokens, the PlainTransport media path needs the load-test grant) and send`,
  `VP8 ${profile.videoBitrate / 1000} kbit/s + Opus each way. Each step is held ${stepMs / 1000} s while loss (packets sent by a call's publisher vs received by its`,
  `subscriber), errors, per-operation latency and CPU/RSS per process are measured. Saturation: the first step with loss > ${lossLimit * 100} % or any error`,
  `(errors since the previous step, the placing of this step's calls included); the ramp still goes on to ${holdCalls} calls, then stops one step later.`,
  '',
  'Configuration (honest about what differs from defaults): `LOGIN_ADDRESS_RATE_LIMIT` raised (every user signs in from 127.0.0.1), the',
  'per-account login limit (10/min) and the message limit (120/min per user) at their defaults; `MAX_PARTICIPANTS_PER_ROOM` 4; users, conversations',
  `and ${pairs * 20} past messages seeded straight into the schema (one scrypt hash shared by all), as bench:api does.`,
  '',
  `**Capacity on this machine: ${capacity ? `${capacity.calls} simultaneous calls with ${capacity.usersOnline} users online without loss or errors` : 'not reached (loss or errors at the first step)'}**; ` +
    (saturatedAt
      ? `loss/errors started at **${saturatedAt.calls} calls** (loss ${(saturatedAt.lossRatio * 100).toFixed(2)} %, ${saturatedAt.errors} errors, kernel UDP drops ${saturatedAt.udpRcvbufErrors}).`
      : `no loss or errors up to the end of the ramp (${last?.calls ?? 0} calls: every pair in a call).`),
  `Busiest processes at the last step (cores): ${
    last
      ? [...last.processes]
          .sort((a, b) => b.cpuCores - a.cpuCores)
          .map((p) => `${p.name} ${p.cpuCores}`)
          .join(', ')
      : '-'
  }.`,
  '',
  '### Per operation, whole run',
  '',
  table(['operation', 'count', 'p50 ms', 'p99 ms', 'max ms', 'errors'], [...overall, ...errorOps]),
  '',
  '### Per step',
  '',
  table(
    [
      'step',
      'calls',
      'users online',
      'loss %',
      'kernel UDP drops',
      'errors',
      'ops',
      'send p50/p99 ms',
      'events p99 ms',
      ...processNames.map((n) => `${n} cores / MiB`),
      'load avg',
    ],
    steps.map((s) => [
      s.step,
      s.calls,
      s.usersOnline,
      round(s.lossRatio * 100, 2),
      s.udpRcvbufErrors,
      s.errors,
      s.requests,
      `${s.p50['send message'] ?? '-'} / ${s.p99['send message'] ?? '-'}`,
      s.p99['message → partner event'] ?? '-',
      ...processNames.map((n) => {
        const p = s.processes.find((x) => x.name === n);
        return p ? `${p.cpuCores} / ${p.rssMiB || '-'}` : '-';
      }),
      s.loadAverage,
    ]),
  ),
  ...(errors.length ? ['', `### Errors (${errors.length}; first 20)`, '', ...errors.slice(0, 20).map((e) => `- ${e.op}: ${e.message}`)] : []),
];
writeResults(run, {
  raw: {
    users: users.filter(Boolean).length,
    pairs,
    callStep,
    maxCalls,
    stepMs,
    messageEveryMs,
    profile,
    lossLimit,
    capacityCalls: capacity?.calls ?? null,
    saturatedAtCalls: saturatedAt?.calls ?? null,
    steps,
    errors,
    latency: Object.fromEntries(
      ops.map((op) => [
        op,
        {
          n: latencies.get(op)!.length,
          p50: percentile(
            latencies.get(op)!.map((l) => l.ms),
            50,
          ),
          p99: percentile(
            latencies.get(op)!.map((l) => l.ms),
            99,
          ),
        },
      ]),
    ),
  },
  summary: summary.join('\n'),
  plots: {
    cpu: lineChart({
      title: 'CPU per process against simultaneous calls',
      xLabel: 'calls',
      yLabel: 'cores',
      series: processNames.map((name) => ({
        name,
        points: steps.map((s) => [s.calls, s.processes.find((p) => p.name === name)?.cpuCores ?? 0] as [number, number]),
      })),
    }),
    latency: lineChart({
      title: 'p99 latency per operation against simultaneous calls',
      xLabel: 'calls',
      yLabel: 'ms',
      series: ops
        .filter((op) => steps.some((s) => s.p99[op] !== undefined) && !op.startsWith('login') && !op.startsWith('/events'))
        .map((op) => ({ name: op, points: steps.filter((s) => s.p99[op] !== undefined).map((s) => [s.calls, s.p99[op]!] as [number, number]) })),
    }),
    loss: lineChart({
      title: 'Media loss against simultaneous calls',
      xLabel: 'calls',
      yLabel: '% of packets',
      series: [
        { name: 'loss', points: steps.map((s) => [s.calls, s.lossRatio * 100]) },
        {
          name: `limit ${lossLimit * 100} %`,
          points: [
            [0, lossLimit * 100],
            [Math.max(1, last?.calls ?? 1), lossLimit * 100],
          ],
          dashed: true,
        },
      ],
    }),
  },
});
process.exit(0);
