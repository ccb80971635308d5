// bench:api — send-message, list-messages (cursor page) and the call history of the BUILT API on a
// real PostgreSQL with realistic volumes, at fixed request rates (autocannon); baseline in the same
// run: a bare Koa + pg route doing the same insert/select (bare-server.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { parseArgs } from '../common/args.js';
import { CpuMeter } from '../common/proc.js';
import { log, startRun, writeResults } from '../common/results.js';
import { round } from '../common/stats.js';
import { explainApiQueries, type ExplainedQuery } from './explain.js';
import { runLoad, summarize, type RequestSpec, type Window } from './load.js';
import { BackendCpuMeter, createDatabase, DatabaseStats, psql, WRITTEN_TABLES, type DatabaseActivity } from './postgres.js';
import { report, type EndpointResult } from './report.js';
import { seed, type Volume } from './seed.js';
import { startApi, startBare, type Target } from './servers.js';

const args = parseArgs();
const run = startRun('api');
const quick = args.quick;
const volume: Volume = quick
  ? { users: 400, doctors: 100, conversations: 2000, messages: args.number('messages', 10_000), calls: args.number('calls', 2000) }
  : { users: 5000, doctors: 1000, conversations: 25_000, messages: args.number('messages', 1_000_000), calls: args.number('calls', 100_000) };
const durationSeconds = args.number('duration', quick ? 1.5 : 15);
const warmupSeconds = quick ? 0.5 : 3;
const connections = args.number('connections', 25);
const poolSize = args.number('pool-size', 10); // the API's default DATABASE_POOL_SIZE; the bare route gets the same
const benchUsers = quick ? 6 : 40;
const ENDPOINTS = ['send-message', 'list-messages', 'call-history'] as const;
type Endpoint = (typeof ENDPOINTS)[number];
const rates: Record<Endpoint, number> = {
  'send-message': args.number('rate-send', 1000),
  'list-messages': args.number('rate-list', 500),
  'call-history': args.number('rate-history', 250),
};
const saturate = !quick && args.get('no-saturate') === undefined;

log(
  `bench:api${quick ? ' --quick' : ''}: ${durationSeconds} s windows at ${Object.entries(rates)
    .map(([e, r]) => `${e} ${r} req/s`)
    .join(', ')}; ${connections} connections`,
);
const database = createDatabase();
log(`database ${database.name} on PostgreSQL ${database.serverVersion}`);
// A diagnostic, never in committed results: `--synchronous-commit off` shows how much of a route's
// time is waiting for WAL flushes (one per committed transaction).
const synchronousCommit = args.get('synchronous-commit');
if (synchronousCommit) {
  psql(`alter database ${database.name} set synchronous_commit = ${synchronousCommit === 'off' ? 'off' : 'on'}`);
  log(`synchronous_commit = ${synchronousCommit} for this database (diagnostic)`);
}
const secrets = { encryptionKey: `k1:${randomBytes(32).toString('base64')}`, accessTokenSecret: randomBytes(32).toString('base64url') };
const targets: Target[] = [];
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    void Promise.all(targets.map((t) => t.stop())).finally(() => {
      database.drop();
      process.exit(130);
    });
  });
}

try {
  // The API migrates the empty database on start; the bulk data goes in behind it.
  // `--profile-api <dir>`: a V8 CPU profile of the API process (written when it stops), to see where its time goes.
  const profileDir = args.get('profile-api');
  const api = await startApi(database.url, secrets, poolSize, profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);
  targets.push(api);
  const seeded = await seed(database.url, secrets.encryptionKey, volume);
  const bare = await startBare(database.url, poolSize);
  targets.push(bare);

  // The bench users: one member of each of the busiest conversations (the spread is skewed to the first ones).
  const chosen = seeded.conversations.slice(0, benchUsers).map((c, k) => {
    const member = k % 2 === 0 ? c.patient : c.doctor;
    // Sends go to any of the user's conversations: real chats do not take dozens of messages a second
    // each, and sends to one conversation queue on its row locks (conversations.last_message_at).
    const all = seeded.conversations.filter((o) => o.patient === member || o.doctor === member).map((o) => o.id);
    return { conversationId: c.id, user: seeded.users[member], all };
  });
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const ranges = await client.query<{ conversation_id: string; n: number; lo: number; hi: number }>(
    'select conversation_id, count(*)::int as n, (array_agg(id order by id))[51] as lo, max(id) as hi from messages where conversation_id = any($1::uuid[]) group by 1',
    [chosen.map((c) => c.conversationId)],
  );
  await client.end();
  const range = new Map(ranges.rows.map((r) => [r.conversation_id, r]));
  log(`logging in ${chosen.length} bench users through POST /api/auth/login`);
  const sessions = await Promise.all(
    chosen.map(async (c) => {
      const res = await fetch(`${api.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: c.user?.email, password: seeded.password }),
      });
      if (!res.ok) throw new Error(`login of ${c.user?.email} answered ${res.status}: ${await res.text()}`);
      const session = (await res.json()) as { accessToken: string };
      const r = range.get(c.conversationId);
      return {
        token: session.accessToken,
        userId: c.user?.id ?? '',
        conversationId: c.conversationId,
        lo: Number(r?.lo ?? 1),
        hi: Number(r?.hi ?? 1),
        messages: r?.n ?? 0,
        all: c.all,
      };
    }),
  );
  const pick = (): (typeof sessions)[number] => sessions[Math.floor(Math.random() * sessions.length)] ?? (sessions[0] as (typeof sessions)[number]);
  const headers = (s: (typeof sessions)[number], json = false): Record<string, string> => ({
    authorization: `Bearer ${s.token}`,
    'x-user-id': s.userId, // read by the bare route only, which has no auth
    ...(json ? { 'content-type': 'application/json' } : {}),
  });
  const requests: Record<Endpoint, () => RequestSpec> = {
    'send-message': () => {
      const s = pick();
      const conversationId = s.all[Math.floor(Math.random() * s.all.length)] ?? s.conversationId;
      return {
        method: 'POST',
        path: `/api/conversations/${conversationId}/messages`,
        headers: headers(s, true),
        body: JSON.stringify({ clientId: randomUUID(), body: `Bench message ${randomUUID()}: blood pressure 120/80 this morning, no side effects.` }),
      };
    },
    'list-messages': () => {
      const s = pick();
      const before = s.lo + 1 + Math.floor(Math.random() * (s.hi - s.lo));
      return { method: 'GET', path: `/api/conversations/${s.conversationId}/messages?before=${before}&limit=50`, headers: headers(s) };
    },
    'call-history': () => {
      const s = pick();
      return { method: 'GET', path: '/api/calls?limit=20', headers: headers(s) };
    },
  };

  // One request of each kind on both targets must succeed (and the API's page must decrypt) before measuring.
  for (const target of [api, bare]) {
    for (const endpoint of ENDPOINTS) {
      const spec = requests[endpoint]();
      const res = await fetch(`${target.url}${spec.path}`, { method: spec.method, headers: spec.headers, body: spec.body ?? null });
      const text = await res.text();
      if (!res.ok) throw new Error(`${target.name} ${endpoint} answered ${res.status}: ${text.slice(0, 300)}`);
      if (target.name === 'api' && endpoint === 'list-messages' && !(JSON.parse(text) as { items: { body: string }[] }).items[0]?.body)
        throw new Error('the API listed no decrypted message');
    }
  }

  log(`logged in; every endpoint answers on both targets`);
  const sample = sessions[0];
  let explained: ExplainedQuery[] = [];
  if (sample) {
    explained = await explainApiQueries(database.url, {
      userId: sample.userId,
      conversationId: sample.conversationId,
      before: Math.floor((sample.lo + sample.hi) / 2),
    });
    for (const q of explained)
      log(
        `  EXPLAIN ${q.endpoint} / ${q.step}: ${q.executionMs} ms, indexes ${q.indexes.join(', ') || 'none'}${q.seqScans.length ? `, SEQ SCAN on ${q.seqScans.join(', ')}` : ''}`,
      );
  }

  const stats = await DatabaseStats.connect(database.url);
  type Cpu = { server: number; database: number };
  const measure = async (
    target: Target,
    endpoint: Endpoint,
    rate: number,
    seconds: number,
  ): Promise<{ window: Window; cpu: Cpu; activity: DatabaseActivity }> => {
    // Rows each request writes (messages, realtime events, audit), counted exactly around the window.
    const before = await stats.activity();
    const meter = new CpuMeter([target.pid]);
    const dbMeter = new BackendCpuMeter(stats, target.applicationName);
    await dbMeter.start();
    meter.start();
    const window = await runLoad({ url: target.url, rate, connections, durationSeconds: seconds, next: requests[endpoint] });
    const [server = 0] = meter.stop();
    const cpu = { server, database: await dbMeter.stop() };
    const after = await stats.activity();
    return { window, cpu, activity: Object.fromEntries(WRITTEN_TABLES.map((t) => [t, after[t] - before[t]])) as DatabaseActivity };
  };

  const endpoints: EndpointResult[] = [];
  const only = args.get('only');
  for (const endpoint of ENDPOINTS.filter((e) => !only || new RegExp(only).test(e))) {
    if (interrupted) break;
    const rate = rates[endpoint];
    log(`${endpoint}: warm-up ${warmupSeconds} s each, then ${durationSeconds} s windows at ${rate} req/s`);
    for (const target of [bare, api])
      await runLoad({ url: target.url, rate, connections, durationSeconds: warmupSeconds, instances: 1, next: requests[endpoint] });
    // ABBA in full runs: a load change on the shared machine hits both targets alike.
    const order = quick ? [bare, api] : [bare, api, api, bare];
    const windows: Record<string, Window[]> = { api: [], bare: [] };
    const cpu: Record<string, Cpu[]> = { api: [], bare: [] };
    const written: Record<string, { rows: DatabaseActivity[]; requests: number }> = { api: { rows: [], requests: 0 }, bare: { rows: [], requests: 0 } };
    for (const target of order) {
      const m = await measure(target, endpoint, rate, durationSeconds);
      windows[target.name]?.push(m.window);
      cpu[target.name]?.push(m.cpu);
      written[target.name]?.rows.push(m.activity);
      const w = written[target.name];
      if (w) w.requests += m.window.latencies.length + m.window.non2xx;
      const s = summarize([m.window]);
      log(
        `  ${target.name}: ${s.requestsPerSecond} req/s, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, ${s.errors} errors; CPU ${round(m.cpu.server, 2)} (node) + ${round(m.cpu.database, 2)} (postgres) cores`,
      );
    }
    const saturation: EndpointResult['saturation'] = {};
    if (saturate) {
      for (const target of [bare, api]) {
        const s = summarize([(await measure(target, endpoint, 0, 10)).window]);
        saturation[target.name] = s;
        log(
          `  ${target.name} unthrottled (${connections} connections): ${s.requestsPerSecond} req/s, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, ${s.errors} errors`,
        );
      }
    }
    const perRequest = (name: string): DatabaseActivity => {
      const w = written[name];
      return Object.fromEntries(
        WRITTEN_TABLES.map((t) => [t, round((w?.rows.reduce((n, r) => n + r[t], 0) ?? 0) / (w?.requests || 1), 2)]),
      ) as DatabaseActivity;
    };
    const meanCpu = (name: string): Cpu => {
      const list = cpu[name] ?? [];
      return {
        server: round(list.reduce((a, c) => a + c.server, 0) / (list.length || 1), 3),
        database: round(list.reduce((a, c) => a + c.database, 0) / (list.length || 1), 3),
      };
    };
    endpoints.push({
      endpoint,
      rate,
      api: summarize(windows.api ?? []),
      bare: summarize(windows.bare ?? []),
      cpu: { api: meanCpu('api'), bare: meanCpu('bare') },
      perRequest: { api: perRequest('api'), bare: perRequest('bare') },
      saturation,
    });
  }

  await stats.close();
  const output = report({
    quick,
    volume,
    seeded: { rows: seeded.rows, seconds: seeded.seconds },
    durationSeconds,
    warmupSeconds,
    connections,
    poolSize,
    benchUsers: sessions.length,
    postgres: database.serverVersion,
    endpoints,
    explained,
  });
  for (const target of targets) await target.stop();
  writeResults(run, output);
} finally {
  for (const target of targets) await target.stop();
  database.drop();
}
process.exit(0);
