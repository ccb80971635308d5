// bench:soak — calls held for a long time through the real stack, configured as a clinic would:
// a 1:1 video call and a 4-person video call at once, each participant a Chromium tab using the
// public SDK bundle (login, the /events socket, `callToken`, `Room.connect` with `refreshAccess`).
// Access tokens live 60 s, room tokens less than the call, idle logoff is on, MAX_CALL_DURATION is
// a little longer than the run. After each room-token expiry a tab's signaling socket is dropped
// (a Wi-Fi blip), so the SDK must resume with an expired token. Every sample (a minute by
// default): RSS and CPU of the media server, each mediasoup worker, the API and each tab's
// renderer (/proc), the SFU's consumer scores (the admin's live quality view), and frames decoded.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type * as Sdk from '@telemed/sdk';
import { generateSecrets, startPlatform, type Platform } from '../../../scripts/platform.mjs';
import { parseArgs, withFreePorts } from '../common/args.js';
import { launchChromium } from '../common/chromium.js';
import { serveSdkBundle } from '../common/sdk-bundle.js';
import { resolveWorkerBin, ROOT } from '../common/machine.js';
import { childPids, cpuSeconds, descendants, processTable, residentRegions, rssBytes, type ResidentRegions } from '../common/proc.js';
import { createDatabase } from '../api/postgres.js';
import { log, startRun, table, writeResults } from '../common/results.js';
import { round } from '../common/stats.js';
import { memorySlope, readApiMemory, type ApiMemory, type MemorySlope } from './memory.js';
import { lineChart, type Series } from '../common/svg-chart.js';
import { waitFor } from '@telemed/test-kit';

const args = parseArgs();
// PGlite (the default, as `npm start`) or the machine's PostgreSQL 15: with PostgreSQL the API's RSS
// holds no database, so its slope is the API's own. Its results are the variant `postgres` unless named.
const databaseKind = args.get('database') ?? 'pglite';
if (databaseKind !== 'pglite' && databaseKind !== 'postgres') throw new Error(`--database is pglite or postgres, not ${databaseKind}`);
const run = startRun('soak', databaseKind === 'postgres' ? { variant: 'postgres' } : {});
const minutes = args.number('minutes', Number(process.env.SOAK_MINUTES ?? (args.quick ? 3 : 30)));
const sampleMs = args.number('sample-s', args.quick ? 15 : 60) * 1000;
const roomTokenTtl = args.number('room-token-ttl', args.quick ? 45 : 240);
const accessTokenTtl = 60;
const idleLogoff = 15 * 60;
// A clinic's limit well above the appointment: the room's clock starts at its creation, and joining six
// tabs on a loaded machine has taken minutes.
const maxCallDuration = Math.ceil(minutes * 60 + 1800);
// Besides the usual 5 and 1 min before the end, a warning halfway through the run: every tab must
// get it (the SDK's callEndingSoon) and the call must go on after it.
const midRunWarning = maxCallDuration - Math.round((minutes * 60) / 2);
const callEndWarnings = `${midRunWarning},300,60`;
// Leak slopes leave out the first samples: caches, JIT and the codecs' buffers fill up there.
const warmUpMs = Math.min(5 * 60_000, (minutes * 60_000) / 5);
const workerBin = resolveWorkerBin();
const database = databaseKind === 'postgres' ? createDatabase() : undefined;
// Dropped however the run ends (a failed start, Ctrl-C); drop() is synchronous and idempotent.
process.on('exit', () => database?.drop());
process.once('SIGINT', () => process.exit(130));
const databaseName = database ? `PostgreSQL ${database.serverVersion}` : 'PGlite';
const password = 'telemed-demo';

const bundleServer = await serveSdkBundle();
const bundleUrl = bundleServer.url;

log(
  `bench:soak: ${minutes} min, a 1:1 and a 4-person video call in Chromium; sample every ${sampleMs / 1000} s; access token ${accessTokenTtl} s, room token ${roomTokenTtl} s, idle logoff ${idleLogoff} s, MAX_CALL_DURATION ${maxCallDuration} s`,
);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-bench-soak-'));
const platform: Platform = await withFreePorts(4, (base) =>
  startPlatform({
    apiPort: base,
    mediaPort: base + 1,
    rtcBasePort: base + 2,
    numWorkers: 2,
    mode: 'test',
    workerBin,
    secrets: generateSecrets(),
    logLevel: 'warn',
    dataDir,
    startTimeoutMs: 180_000,
    logDir: path.join(ROOT, 'test-results', 'logs', 'bench-soak'),
    apiEnv: {
      ...(database ? { DATABASE_URL: database.url } : {}),
      SEED_DEMO: 'true',
      ACCESS_TOKEN_TTL: String(accessTokenTtl),
      ROOM_TOKEN_TTL: String(roomTokenTtl),
      SESSION_IDLE_TIMEOUT: String(idleLogoff),
    },
    mediaEnv: { MAX_CALL_DURATION: String(maxCallDuration), CALL_END_WARNINGS: callEndWarnings },
  }),
);

// --- the API side: an admin creates the fourth doctor; the calls are placed and accepted ---------
async function api<T>(token: string | undefined, method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`${platform.apiUrl}${url}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}
const login = async (email: string): Promise<string> =>
  (await api<{ accessToken: string }>(undefined, 'POST', '/api/auth/login', { email, password })).accessToken;
const userId = async (token: string): Promise<string> => (await api<{ id: string }>(token, 'GET', '/api/users/me')).id;
let adminToken = '';

interface CallPlan {
  name: string;
  caller: string;
  invitees: string[];
}
const plans: CallPlan[] = [
  { name: '1:1', caller: 'alice@patients.demo', invitees: ['grey@doctors.demo'] },
  { name: 'group of 4', caller: 'house@doctors.demo', invitees: ['bob@patients.demo', 'carol@patients.demo', 'yang@doctors.soak'] },
];
const calls: { plan: CallPlan; id: string }[] = [];
/** An admin creates the fourth doctor (invitation, password set through its link); the calls are placed and accepted. */
async function placeCalls(): Promise<void> {
  adminToken = await login('admin@telemed.demo');
  const created = await api<{ invitation: { url?: string } }>(adminToken, 'POST', '/api/admin/users', {
    email: 'yang@doctors.soak',
    displayName: 'Dr. Cristina Yang',
    role: 'doctor',
  });
  const inviteToken = new URL((created.invitation.url ?? '').replace('/#/', '/')).searchParams.get('token');
  await api(undefined, 'POST', '/api/invitations/accept', { token: inviteToken, password });
  for (const plan of plans) {
    const caller = await login(plan.caller);
    const invitees = await Promise.all(plan.invitees.map(async (email) => ({ email, token: await login(email) })));
    const call = await api<{ call?: { id: string }; id?: string }>(caller, 'POST', '/api/calls', {
      type: 'video',
      inviteeIds: await Promise.all(invitees.map((i) => userId(i.token))),
    });
    const id = call.call?.id ?? call.id ?? '';
    for (const invitee of invitees) await api(invitee.token, 'POST', `/api/calls/${id}/accept`);
    calls.push({ plan, id });
  }
}

// --- the tabs ---------------------------------------------------------------------------------
interface TabState {
  state: string;
  reconnecting: number;
  reconnected: number;
  resumed: number;
  disconnected: string[];
  eventsConnected: number;
  eventsDisconnected: number;
  sessionRefreshes: number;
  loggedOut: boolean;
  blips: number;
  /** `secondsLeft` of each callEndingSoon the room emitted. */
  endWarnings: number[];
  errors: string[];
}
interface TabStats {
  framesDecoded: number;
  videoTracks: number;
  freezeCount: number;
  audioBytes: number;
  concealedSamples: number;
  totalSamples: number;
  scores: number[];
}
type TabWindow = Window & { soak: TabState; soakStats: () => Promise<TabStats>; soakBlip: () => number };
interface Tab {
  email: string;
  call: string;
  page: Page;
  browser: Browser;
  browserPid: number;
  /** The tab's renderer, picked once every tab decodes (pickRenderers). */
  rendererPid: number;
}

/** The renderer processes of one participant's browser. */
function renderers(browserPid: number): number[] {
  return descendants(browserPid)
    .filter((p) => p.cmdline.includes('--type=renderer') && !p.cmdline.includes('--extension-process'))
    .map((p) => p.pid);
}

const browsers: Browser[] = [];
/** A Chromium per participant, so its tab's renderer is known by pid (a browser's renderers are its descendants). */
async function openTab(email: string, callId: string, callName: string): Promise<Tab> {
  const chromiumChildren = (): Set<number> =>
    new Set(
      processTable()
        .filter((p) => p.ppid === process.pid && /chrom/.test(p.comm))
        .map((p) => p.pid),
    );
  const before = chromiumChildren();
  const browser = await launchChromium();
  browsers.push(browser);
  const browserPid = [...chromiumChildren()].find((pid) => !before.has(pid)) ?? 0;
  const context = await browser.newContext({ bypassCSP: true, permissions: ['camera', 'microphone'] });
  const page = await context.newPage();
  page.setDefaultTimeout(180_000);
  page.on('pageerror', (error) => log(`  ${email}: page error ${error.message}`));
  // A page of the API's origin (same-origin fetch and /events); the call UI is the SDK driven below.
  await page.goto(`${platform.apiUrl}/health`);
  await page.evaluate(
    async ({ bundleUrl, apiUrl, email, password, callId }) => {
      // Record the tab's sockets, so a blip can drop the media signaling one as a network would.
      const sockets: WebSocket[] = [];
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      };
      const load = new Function('url', 'return import(url)') as (url: string) => Promise<typeof Sdk>;
      const sdk = await load(bundleUrl);
      const w = window as typeof window & TabWindow;
      const state: TabState = {
        state: 'new',
        reconnecting: 0,
        reconnected: 0,
        resumed: 0,
        disconnected: [],
        eventsConnected: 0,
        eventsDisconnected: 0,
        sessionRefreshes: 0,
        loggedOut: false,
        blips: 0,
        endWarnings: [],
        errors: [],
      };
      w.soak = state;
      const client = new sdk.TelemedClient({ baseUrl: apiUrl });
      await client.login(email, password);
      client.on('sessionChanged', (session) => {
        if (session) state.sessionRefreshes++;
        else state.loggedOut = true;
      });
      client.on('eventsConnected', () => state.eventsConnected++);
      client.on('eventsDisconnected', () => state.eventsDisconnected++);
      client.connectEvents();
      const access = await client.callToken(callId);
      const room = new sdk.Room({ signalTimeoutMs: 30_000 });
      room.on('connectionStateChanged', (s) => {
        state.state = s;
        if (s === 'reconnecting') state.reconnecting++;
      });
      room.on('reconnected', (info) => {
        state.reconnected++;
        if (info.resumed) state.resumed++;
      });
      room.on('disconnected', (error) => state.disconnected.push(String(error?.message ?? error)));
      room.on('callEndingSoon', ({ secondsLeft }) => state.endWarnings.push(secondsLeft));
      // Every remote track is shown, as a call screen would (adaptive stream follows the element size).
      room.on('trackSubscribed', (track) => {
        const element = track.attach();
        element.style.width = '320px';
        element.style.height = '180px';
        document.body.append(element);
      });
      // A loaded machine answers signaling slowly: a join that timed out is tried again (at most three times).
      for (let attempt = 1; ; attempt++) {
        try {
          await room.connect(access.url, access.token, {
            iceServers: access.iceServers,
            refreshAccess: async () => {
              try {
                return await client.callToken(callId);
              } catch (error) {
                state.errors.push(`refreshAccess: ${String(error)}`);
                throw error;
              }
            },
          });
          break;
        } catch (error) {
          state.errors.push(`connect attempt ${attempt}: ${String(error)}`);
          if (attempt >= 3) throw error;
          await room.disconnect();
        }
      }
      await room.localParticipant.setCameraEnabled(true, { width: 320, height: 180 });
      await room.localParticipant.setMicrophoneEnabled(true);
      w.soakBlip = () => {
        let dropped = 0;
        for (const socket of sockets) {
          if (socket.readyState === WebSocket.OPEN && new URL(socket.url).pathname === '/rtc') {
            socket.close(3000, 'soak blip');
            dropped++;
          }
        }
        state.blips += dropped;
        return dropped;
      };
      w.soakStats = async () => {
        const stats: TabStats = { framesDecoded: 0, videoTracks: 0, freezeCount: 0, audioBytes: 0, concealedSamples: 0, totalSamples: 0, scores: [] };
        for (const participant of room.remoteParticipants.values()) {
          for (const track of participant.tracks) {
            if (track.score) stats.scores.push(track.score.score);
            (await track.getStats()).forEach((s: Record<string, unknown>) => {
              if (s.type !== 'inbound-rtp') return;
              if (s.kind === 'video') {
                stats.videoTracks++;
                stats.framesDecoded += Number(s.framesDecoded ?? 0);
                stats.freezeCount += Number(s.freezeCount ?? 0);
              } else {
                stats.audioBytes += Number(s.bytesReceived ?? 0);
                stats.concealedSamples += Number(s.concealedSamples ?? 0);
                stats.totalSamples += Number(s.totalSamplesReceived ?? 0);
              }
            });
          }
        }
        return stats;
      };
    },
    { bundleUrl, apiUrl: platform.apiUrl, email, password, callId },
  );
  log(`  ${email} joined the ${callName} call (browser ${browserPid})`);
  return { email, call: callName, page, browser, browserPid, rendererPid: 0 };
}

/**
 * Each tab's renderer, once every tab decodes: the browser's renderer that used the most CPU over
 * a few seconds (the call's tab decodes and encodes video; the blank first page and a spare idle).
 * Picked by size at join, a caller's tab (alone in its call then) lost to a spare renderer.
 */
async function pickRenderers(all: Tab[]): Promise<void> {
  const candidates = all.map((tab) => renderers(tab.browserPid).map((pid) => ({ pid, cpu: cpuSeconds(pid) })));
  await new Promise((resolve) => setTimeout(resolve, 3000));
  all.forEach((tab, i) => {
    const used = candidates[i]!.map((r) => ({ pid: r.pid, cpu: cpuSeconds(r.pid) - r.cpu, rss: rssBytes(r.pid) })).sort((a, b) => b.cpu - a.cpu);
    tab.rendererPid = used[0]?.pid ?? 0;
    log(
      `  ${tab.email}: renderers ${used.map((r) => `${r.pid} (${round(r.cpu / 3, 2)} cores, ${round(r.rss / 2 ** 20)} MiB)`).join(', ')}: tab ${tab.rendererPid}`,
    );
  });
}

const tabs: Tab[] = [];
const expectedVideo = (tab: Tab): number => (tab.call === '1:1' ? 1 : 3);

// --- sampling ---------------------------------------------------------------------------------
interface ProcessSample {
  name: string;
  pid: number;
  rssMiB: number;
  cpuCores: number;
}
interface TabSample {
  email: string;
  call: string;
  state: string;
  framesDecoded: number;
  fps: number;
  freezeCount: number;
  audioBytes: number;
  concealedRatio: number;
  clientScores: number[];
}
interface Sample {
  minute: number;
  at: string;
  loadAverage: number;
  processes: ProcessSample[];
  tabs: TabSample[];
  serverScores: { call: string; outVideo: number[]; outAudio: number[]; in: number[] }[];
  /** The API process's memory by kind; undefined when its /metrics did not answer. */
  apiMemory: ApiMemory | undefined;
  /** The API process's resident memory by region; undefined when it was gone. */
  apiResident: ResidentRegions | undefined;
}
const samples: Sample[] = [];
const lastCpu = new Map<number, { cpu: number; at: number }>();
const lastFrames = new Map<string, { frames: number; at: number }>();
const mediaPid = platform.processes.media.pid ?? 0;
const apiPid = platform.processes.api.pid ?? 0;

/** RSS now and CPU (cores) since the previous sample of one process (0 when it is gone). */
function sampleProcess(name: string, pid: number): ProcessSample {
  const now = performance.now();
  const cpu = cpuSeconds(pid);
  const prev = lastCpu.get(pid);
  lastCpu.set(pid, { cpu, at: now });
  return { name, pid, rssMiB: round(rssBytes(pid) / 2 ** 20, 1), cpuCores: prev ? round(Math.max(0, cpu - prev.cpu) / ((now - prev.at) / 1000), 3) : 0 };
}

async function serverScores(): Promise<Sample['serverScores']> {
  let live: { items: { callId: string; samples: { direction: string; kind: string; score: number }[] }[] };
  try {
    live = await api(adminToken, 'GET', '/api/admin/quality/live');
  } catch {
    adminToken = await login('admin@telemed.demo'); // the admin's 60 s access token expired
    live = await api(adminToken, 'GET', '/api/admin/quality/live');
  }
  return calls.map(({ plan, id }) => {
    const rows = live.items.find((i) => i.callId === id)?.samples ?? [];
    return {
      call: plan.name,
      outVideo: rows.filter((r) => r.direction === 'out' && r.kind === 'video').map((r) => r.score),
      outAudio: rows.filter((r) => r.direction === 'out' && r.kind === 'audio').map((r) => r.score),
      in: rows.filter((r) => r.direction === 'in').map((r) => r.score),
    };
  });
}

async function takeSample(startedAt: number): Promise<Sample> {
  const workers = childPids(mediaPid, 'mediasoup-worker');
  const processes = [
    sampleProcess('media server (node)', mediaPid),
    ...workers.map((pid, i) => sampleProcess(`mediasoup worker ${i}`, pid)),
    sampleProcess('api', apiPid),
    ...tabs.map((t) => sampleProcess(`tab ${t.email}`, t.rendererPid)),
  ];
  const tabSamples = await Promise.all(
    tabs.map(async (tab): Promise<TabSample> => {
      const [state, stats] = await tab.page.evaluate(async () => {
        const w = window as typeof window & TabWindow;
        return [{ ...w.soak }, await w.soakStats()] as const;
      });
      const at = performance.now();
      const previous = lastFrames.get(tab.email);
      lastFrames.set(tab.email, { frames: stats.framesDecoded, at });
      // A counter that went down belongs to new receivers (a rejoin): their frames all came in this interval.
      const decoded = previous === undefined ? 0 : stats.framesDecoded >= previous.frames ? stats.framesDecoded - previous.frames : stats.framesDecoded;
      return {
        email: tab.email,
        call: tab.call,
        state: state.state,
        framesDecoded: stats.framesDecoded,
        fps: previous === undefined ? 0 : round(decoded / ((at - previous.at) / 1000) / expectedVideo(tab), 1),
        freezeCount: stats.freezeCount,
        audioBytes: stats.audioBytes,
        concealedRatio: stats.totalSamples > 0 ? round(stats.concealedSamples / stats.totalSamples, 4) : 0,
        clientScores: stats.scores,
      };
    }),
  );
  return {
    minute: round((Date.now() - startedAt) / 60_000, 2),
    at: new Date().toISOString(),
    loadAverage: round(os.loadavg()[0]!, 2),
    processes,
    tabs: tabSamples,
    serverScores: await serverScores(),
    apiMemory: await readApiMemory(platform.apiUrl),
    apiResident: residentRegions(apiPid),
  };
}

const tabState = (tab: Tab): Promise<TabState> => tab.page.evaluate(() => ({ ...(window as typeof window & TabWindow).soak }));
const blipLog: { minute: number; email: string; recovered: boolean; ms: number }[] = [];
let blipTurn = 0;
const stalls: string[] = [];
let finalStates: TabState[] = [];
let startedAt = 0;
let endAt = 0;
let nextBlipAt = 0;
try {
  await placeCalls();
  for (const { plan, id } of calls) {
    for (const email of [plan.caller, ...plan.invitees]) tabs.push(await openTab(email, id, plan.name));
  }
  await waitFor(
    'every tab decoding every remote video',
    async () => {
      const stats = await Promise.all(tabs.map((t) => t.page.evaluate(() => (window as typeof window & TabWindow).soakStats())));
      return stats.every((s, i) => s.videoTracks === expectedVideo(tabs[i]!) && s.framesDecoded > 0) ? true : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
  await pickRenderers(tabs);
  log(`all ${tabs.length} tabs decode every remote video; holding for ${minutes} min`);
  startedAt = Date.now();
  endAt = startedAt + minutes * 60_000;
  nextBlipAt = startedAt + (roomTokenTtl + 15) * 1000;
  samples.push(await takeSample(startedAt));
  for (let nextSampleAt = startedAt + sampleMs; nextSampleAt <= endAt + 1000; nextSampleAt += sampleMs) {
    while (Date.now() < nextSampleAt) {
      // A blip on one tab after its room token expired: the SDK must resume (refreshing the token).
      if (Date.now() >= nextBlipAt && Date.now() < endAt - 30_000) {
        const tab = tabs[blipTurn++ % tabs.length]!;
        const before = await tabState(tab);
        const blippedAt = Date.now();
        const dropped = await tab.page.evaluate(() => (window as typeof window & TabWindow).soakBlip());
        let recovered = false;
        if (dropped > 0) {
          recovered = await waitFor(`${tab.email} back after a blip`, async () => ((await tabState(tab)).reconnected > before.reconnected ? true : undefined), {
            timeoutMs: 60_000,
            intervalMs: 100,
          }).catch(() => false);
        }
        blipLog.push({ minute: round((blippedAt - startedAt) / 60_000, 2), email: tab.email, recovered, ms: Date.now() - blippedAt });
        log(
          `  blip: ${tab.email}'s signaling socket dropped (${dropped}) with its room token expired: ${recovered ? `resumed in ${Date.now() - blippedAt} ms` : 'NOT recovered'}`,
        );
        nextBlipAt += roomTokenTtl * 1000;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(1000, nextSampleAt - Date.now()))));
    }
    const sample = await takeSample(startedAt);
    samples.push(sample);
    // A sample that took longer than the period (a loaded machine) skips the slots it overran.
    while (nextSampleAt + sampleMs < Date.now()) nextSampleAt += sampleMs;
    // Kept as the run goes: a run that fails late still leaves its samples.
    fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'test-results', 'bench-soak-samples.json'), JSON.stringify({ blips: blipLog, stalls, samples }));
    for (const t of sample.tabs) if (t.fps <= 0 || t.state !== 'connected') stalls.push(`min ${sample.minute}: ${t.email} ${t.state}, ${t.fps} fps`);
    const rss = (name: string): string =>
      sample.processes
        .filter((p) => p.name.startsWith(name))
        .map((p) => p.rssMiB)
        .join('/');
    const scores = sample.serverScores.map((s) => `${s.call} min ${Math.min(...s.outVideo, 10)}`).join(', ');
    log(
      `min ${sample.minute.toFixed(1)}/${minutes}: RSS MiB media ${rss('media')}, workers ${rss('mediasoup')}, api ${rss('api')}${sample.apiMemory ? ` (heap ${sample.apiMemory.heapUsedMiB}, external ${sample.apiMemory.externalMiB})` : ''}, tabs ${rss('tab')}; fps ${sample.tabs.map((t) => t.fps).join('/')}; consumer scores ${scores}; load ${sample.loadAverage}`,
    );
  }
  finalStates = await Promise.all(tabs.map(tabState));
} finally {
  await Promise.all(browsers.map((b) => b.close().catch(() => undefined)));
  await platform.stop();
  bundleServer.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

// --- the report ---------------------------------------------------------------------------------
const processNames = [...new Set(samples.flatMap((s) => s.processes.map((p) => p.name)))];
const fits = processNames.map((name) => {
  const series = samples.map((s) => [s.minute, s.processes.find((p) => p.name === name)?.rssMiB ?? 0] as [number, number]).filter(([, rss]) => rss > 0);
  const cpu = samples.slice(1).map((s) => s.processes.find((p) => p.name === name)?.cpuCores ?? 0);
  return {
    name,
    first: series[0]?.[1] ?? 0,
    last: series.at(-1)?.[1] ?? 0,
    max: Math.max(...series.map(([, r]) => r)),
    ...memorySlope(series, warmUpMs),
    meanCpuCores: round(cpu.reduce((a, b) => a + b, 0) / Math.max(1, cpu.length), 3),
  };
});
/** The same fit for the API's memory by kind: which part of its RSS grows. */
const apiMemoryKinds: [string, (s: Sample) => number | undefined][] = [
  ['JavaScript heap in use (/metrics)', (s) => s.apiMemory?.heapUsedMiB],
  ["JavaScript heap committed: V8's pages, part of the rest below (/metrics)", (s) => s.apiMemory?.heapTotalMiB],
  [`external: ArrayBuffers${database ? '' : ", PGlite's WebAssembly memory among them"} (/metrics)`, (s) => s.apiMemory?.externalMiB],
  ['resident: WebAssembly memory (smaps)', (s) => s.apiResident?.wasmMiB],
  ['WebAssembly memory mapped: the size it has grown to, the bound of the line above (smaps)', (s) => s.apiResident?.wasmMappedMiB],
  ["resident: glibc malloc heaps, every thread's arena (smaps)", (s) => s.apiResident?.mallocMiB],
  ["resident: the rest — V8's heap, code, stacks, libraries (smaps)", (s) => s.apiResident?.otherMiB],
];
const apiMemoryFits = apiMemoryKinds.map(([kind, pick]) => {
  const series = samples.flatMap((s) => {
    const mib = pick(s);
    return mib === undefined ? [] : [[s.minute, mib] as [number, number]];
  });
  return { kind, first: series[0]?.[1] ?? 0, last: series.at(-1)?.[1] ?? 0, ...memorySlope(series, warmUpMs) };
});
/** The second half's slope ± its error; '-' when the half had too few samples for a fit. */
const lateSlopeText = (f: MemorySlope): string => (Number.isFinite(f.lateSlopeMiBPerHour) ? `${f.lateSlopeMiBPerHour} ± ${f.lateSlopeStdError}` : '-');
const allScores = (pick: (s: Sample['serverScores'][number]) => number[]): number[] => samples.flatMap((s) => s.serverScores.flatMap(pick));
const minScore = (values: number[]): number | string => (values.length ? Math.min(...values) : 'none');
const meanOf = (values: number[]): number => round(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length), 2);
const tabRows = tabs.map((tab, i) => {
  const state = finalStates[i]!;
  const fps = samples.slice(1).map((s) => s.tabs.find((t) => t.email === tab.email)?.fps ?? 0);
  const last = samples.at(-1)?.tabs.find((t) => t.email === tab.email);
  return [
    tab.email,
    tab.call,
    state.state,
    Math.min(...fps),
    meanOf(fps),
    last?.framesDecoded ?? 0,
    last?.freezeCount ?? 0,
    last?.concealedRatio ?? 0,
    state.blips,
    state.endWarnings.map((s) => `${s} s`).join(', ') || 'none',
    `${state.reconnected} (${state.resumed} resumed)`,
    state.disconnected.length,
    state.eventsDisconnected,
    state.sessionRefreshes,
    state.loggedOut ? 'yes' : 'no',
    state.errors.length,
  ];
});
const heldAll =
  finalStates.every((s) => s.state === 'connected' && s.disconnected.length === 0 && !s.loggedOut) && stalls.length === 0 && blipLog.every((b) => b.recovered);
const warnedAll = finalStates.every((s) => s.endWarnings.length === 1);
const summary = [
  `A 1:1 video call (2 tabs) and a 4-person video call (4 tabs) held together for ${minutes} min through the built API (${databaseName}) and media server`,
  `(2 mediasoup workers), one headless Chromium with a browser context per participant, the public SDK bundle (camera 320x180 and microphone`,
  `from Chromium's fake devices, every remote track shown in a 320x180 element), sampled every ${sampleMs / 1000} s.`,
  '',
  'Configured as a clinic would:',
  '',
  table(
    ['setting', 'value', 'what it exercises'],
    [
      ['ACCESS_TOKEN_TTL', `${accessTokenTtl} s`, 'the /events socket is closed at expiry and reconnects with a refreshed token; the API calls refresh on 401'],
      [
        'ROOM_TOKEN_TTL',
        `${roomTokenTtl} s`,
        `shorter than the call; after each expiry one tab's media signaling socket is dropped (a blip), so it resumes with an expired token and must refresh it through \`refreshAccess\``,
      ],
      ['SESSION_IDLE_TIMEOUT', `${idleLogoff} s`, 'idle logoff: a refresh token unused this long is refused'],
      ['MAX_CALL_DURATION', `${maxCallDuration} s`, 'the media server ends a room this long after the call started'],
      [
        'CALL_END_WARNINGS',
        `${callEndWarnings} s`,
        `everyone is told the call ends soon (\`callEndingSoon\`) this long before MAX_CALL_DURATION; the first falls halfway through the run, and the call must go on after it`,
      ],
    ],
  ),
  '',
  `**Result: ${heldAll ? 'both calls held' : 'NOT held'}** — every tab ${heldAll ? 'stayed connected and decoded video in every interval' : 'see below'}; ${blipLog.length} blips, ${blipLog.filter((b) => b.recovered).length} recovered (resume time p50 ${blipLog.length ? [...blipLog].sort((a, b) => a.ms - b.ms)[Math.floor(blipLog.length / 2)]!.ms : '-'} ms).`,
  `The halfway end-of-call warning reached ${warnedAll ? 'every tab once' : `${finalStates.filter((s) => s.endWarnings.length === 1).length} of ${finalStates.length} tabs once (see the table)`}.`,
  ...(stalls.length ? ['', 'Intervals without decoded video or not connected:', '', ...stalls.map((s) => `- ${s}`)] : []),
  '',
  '### Memory and CPU per process',
  '',
  `Leak slope: ordinary least squares of RSS (VmRSS of /proc/<pid>/status) against time over the samples after the first ${round(warmUpMs / 60_000, 1)} min`,
  "(warm-up: caches, JIT, codec buffers), in MiB per hour, with the slope's standard error and R². A slope within ~2 standard errors of 0,",
  'or a low R², is no evidence of a leak; a steady slope with R² near 1 over 30 min is. The same fit over the second half of the run',
  'tells a leak (the slope stays) from a warm-up that levels off (the slope falls toward 0).',
  '',
  table(
    ['process', 'RSS first MiB', 'last', 'max', 'slope MiB/h', '± s.e.', 'R²', 'samples', 'second half: slope ± s.e.', 'mean CPU cores'],
    fits.map((f) => [f.name, f.first, f.last, f.max, f.slopeMiBPerHour, f.slopeStdError, f.r2, f.points, lateSlopeText(f), f.meanCpuCores]),
  ),
  '',
  "The API's memory by kind, the same fit. From its /metrics: the JavaScript heap and ArrayBuffers. From /proc/<pid>/smaps: its RSS split by",
  "region (WebAssembly memories are a read-write mapping followed by V8's guard reservation of GiBs; glibc's arenas are 64 MiB reservations",
  'on 64 MiB boundaries, plus [heap]); the three add up to its RSS. A WebAssembly memory stays resident once touched, so PGlite filling its',
  'caches shows here, bounded by the memory it has grown to; malloc heaps grow with fragmentation as well as with leaks.',
  '',
  table(
    ['api memory', 'first MiB', 'last', 'slope MiB/h', '± s.e.', 'R²', 'samples', 'second half: slope ± s.e.'],
    apiMemoryFits.map((f) => [f.kind, f.first, f.last, f.slopeMiBPerHour, f.slopeStdError, f.r2, f.points, lateSlopeText(f)]),
  ),
  '',
  '### Media',
  '',
  `Consumer scores from the SFU (mediasoup 0-10, the admin's live quality view, every stats sample): video min ${minScore(allScores((s) => s.outVideo))}, mean ${meanOf(allScores((s) => s.outVideo))};`,
  `audio min ${minScore(allScores((s) => s.outAudio))}, mean ${meanOf(allScores((s) => s.outAudio))}; producers min ${minScore(allScores((s) => s.in))}.`,
  '',
  table(
    [
      'tab',
      'call',
      'end state',
      'min fps per remote video',
      'mean fps',
      'frames decoded',
      'freezes',
      'audio concealed ratio',
      'blips',
      'end warnings (s left)',
      'reconnected',
      'disconnected',
      '/events reconnects',
      'token refreshes',
      'logged out',
      'refresh errors',
    ],
    tabRows,
  ),
  '',
  '### Blips (signaling socket dropped after the room token expired)',
  '',
  blipLog.length
    ? table(
        ['minute', 'tab', 'resumed', 'ms'],
        blipLog.map((b) => [b.minute, b.email, b.recovered ? 'yes' : 'NO', b.ms]),
      )
    : 'none (the run was shorter than the room token TTL)',
];
const series = (names: string[]): Series[] =>
  names.map((name) => ({ name, points: samples.map((s) => [s.minute, s.processes.find((p) => p.name === name)?.rssMiB ?? 0] as [number, number]) }));
writeResults(run, {
  raw: {
    minutes,
    sampleMs,
    config: { database: databaseName, accessTokenTtl, roomTokenTtl, idleLogoff, maxCallDuration, callEndWarnings },
    warmUpMs,
    heldAll,
    warnedAll,
    fits,
    apiMemoryFits,
    blips: blipLog,
    stalls,
    finalStates,
    samples,
  },
  summary: summary.join('\n'),
  plots: {
    'rss-server': lineChart({
      title: 'RSS of the server processes',
      xLabel: 'minute',
      yLabel: 'MiB',
      series: series(processNames.filter((n) => !n.startsWith('tab '))),
    }),
    'rss-tabs': lineChart({
      title: "RSS of each tab's renderer",
      xLabel: 'minute',
      yLabel: 'MiB',
      series: series(processNames.filter((n) => n.startsWith('tab '))),
    }),
    fps: lineChart({
      title: 'Frames decoded per second per remote video, each tab',
      xLabel: 'minute',
      yLabel: 'fps',
      series: tabs.map((t) => ({
        name: t.email,
        points: samples.slice(1).map((s) => [s.minute, s.tabs.find((x) => x.email === t.email)?.fps ?? 0] as [number, number]),
      })),
    }),
  },
});
process.exit(heldAll ? 0 : 1);
