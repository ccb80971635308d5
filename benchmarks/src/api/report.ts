// bench:api's summary (Markdown), raw results and plots.
import { table } from '../common/results.js';
import { round } from '../common/stats.js';
import { lineChart, type Chart } from '../common/svg-chart.js';
import type { ExplainedQuery } from './explain.js';
import { WRITTEN_TABLES, type DatabaseActivity } from './postgres.js';
import type { LoadResult } from './load.js';
import type { Volume } from './seed.js';

export interface EndpointResult {
  endpoint: string;
  rate: number;
  api: LoadResult;
  bare: LoadResult;
  /** Mean cores over the measured windows: the target's Node process and its PostgreSQL backends. */
  cpu: Record<'api' | 'bare', { server: number; database: number }>;
  /** Rows written per request into each table these routes write (exact counts around the windows). */
  perRequest: Record<'api' | 'bare', DatabaseActivity>;
  /** Full runs: one unthrottled window per target (as many requests as the connections carry). */
  saturation: Partial<Record<'api' | 'bare', LoadResult>>;
}

export interface ReportInput {
  quick: boolean;
  volume: Volume;
  seeded: { rows: Record<string, number>; seconds: Record<string, number> };
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  poolSize: number;
  benchUsers: number;
  postgres: string;
  endpoints: EndpointResult[];
  explained: ExplainedQuery[];
}

/** CPU milliseconds (Node + PostgreSQL) per answered request. */
const cpuMsPerRequest = (cpu: { server: number; database: number }, r: LoadResult): number =>
  r.requestsPerSecond > 0 ? round(((cpu.server + cpu.database) * 1000) / r.requestsPerSecond, 3) : Number.NaN;

const ratio = (a: number, b: number): number | string => (b > 0 && Number.isFinite(a) ? round(a / b, 2) : '–');

// x of the latency plots: "nines" of the percentile (1 = p90, 2 = p99, 3 = p99.9), so the tail gets room.
const nines = (p: number): number => round(-Math.log10(1 - p / 100), 3);

/** Latency by percentile per endpoint, API against the bare route (also used to redraw committed results). */
export function apiPlots(endpoints: Pick<EndpointResult, 'endpoint' | 'rate' | 'api' | 'bare'>[]): Record<string, Chart> {
  return Object.fromEntries(
    endpoints.map((r) => [
      `latency-${r.endpoint}`,
      lineChart({
        title: `${r.endpoint} at ${r.rate} req/s: latency by percentile`,
        xLabel: 'percentile as nines: 0.3 = p50, 1 = p90, 2 = p99, 3 = p99.9',
        yLabel: 'latency (ms)',
        series: [
          { name: `API (p99 ${r.api.p99Ms} ms)`, points: r.api.curve.map(([p, ms]): [number, number] => [nines(p), ms]) },
          { name: `bare Koa + pg (p99 ${r.bare.p99Ms} ms)`, dashed: true, points: r.bare.curve.map(([p, ms]): [number, number] => [nines(p), ms]) },
        ],
      }),
    ]),
  );
}

export function report(input: ReportInput): { raw: unknown; summary: string; plots: Record<string, Chart> } {
  const e = input.endpoints;
  const rows = e.map((r) => [
    r.endpoint,
    r.rate,
    `${r.api.requestsPerSecond} / ${r.bare.requestsPerSecond}`,
    ratio(r.api.requestsPerSecond, r.bare.requestsPerSecond),
    `${r.api.p50Ms} / ${r.api.p99Ms}`,
    `${r.bare.p50Ms} / ${r.bare.p99Ms}`,
    `${r.api.errors} / ${r.bare.errors}`,
    `${round(r.cpu.api.server, 2)} + ${round(r.cpu.api.database, 2)}`,
    `${round(r.cpu.bare.server, 2)} + ${round(r.cpu.bare.database, 2)}`,
    `${cpuMsPerRequest(r.cpu.api, r.api)} / ${cpuMsPerRequest(r.cpu.bare, r.bare)}`,
    ratio(cpuMsPerRequest(r.cpu.bare, r.bare), cpuMsPerRequest(r.cpu.api, r.api)),
  ]);
  const saturated = e.filter((r) => r.saturation.api && r.saturation.bare);
  const send = e.find((r) => r.endpoint === 'send-message');
  const v = input.volume;
  const summary = [
    `PostgreSQL ${input.postgres} (local cluster 15/main, a throwaway database). Seeded: ${Object.entries(input.seeded.rows)
      .map(([t, n]) => `${t} ${n.toLocaleString('en')}`)
      .join(', ')} ` +
      `(${v.users} users of whom ${v.doctors} doctors; messages spread skewed over ${v.conversations} direct conversations; bodies encrypted by the API's Encryptor). ` +
      `Seconds: ${Object.entries(input.seeded.seconds)
        .map(([k, s]) => `${k} ${s}`)
        .join(', ')}.`,
    '',
    `Load: autocannon 9.0.0, ${input.connections} connections, a fixed overall rate per endpoint, ${input.warmupSeconds} s warm-up per target, then ${input.durationSeconds} s windows ` +
      `(${input.quick ? 'bare, API' : 'bare, API, API, bare; figures over both windows together'}). Requests come from ${input.benchUsers} users logged in through POST /api/auth/login: list-messages pages back from a random cursor (a full page of 50) in one of the busiest conversations per user, send-message posts to any of the user's conversations, call history reads the user's first page of 20. ` +
      `Both targets use a pool of ${input.poolSize} connections. Latency: per request, 2xx answers only; errors = non-2xx answers + connection errors.`,
    '',
    '## At a fixed rate',
    '',
    table(
      [
        'endpoint',
        'asked req/s',
        'achieved req/s API / bare',
        'ratio (API ÷ bare)',
        'API p50 / p99 ms',
        'bare p50 / p99 ms',
        'errors API / bare',
        'API CPU node + pg (cores)',
        'bare CPU node + pg',
        'CPU ms per request API / bare',
        'capacity ratio (bare ÷ API CPU per request)',
      ],
      rows,
    ),
    '',
    send
      ? `Target: send-message p99 ≤ 25 ms at 1,000 req/s on PostgreSQL: **${send.api.p99Ms} ms at ${send.api.requestsPerSecond} req/s achieved (asked ${send.rate})** — ${send.api.p99Ms <= 25 && send.api.requestsPerSecond >= 0.98 * 1000 && send.rate >= 1000 ? 'met' : 'not met'}.`
      : '',
    '',
    '## Rows written per request',
    '',
    'Exact row counts of the tables these routes write, before and after each fixed-rate window, divided by the requests answered.',
    '',
    table(
      ['endpoint', ...WRITTEN_TABLES.map((t) => `${t} API / bare`)],
      e.map((r) => [r.endpoint, ...WRITTEN_TABLES.map((t) => `${r.perRequest.api[t]} / ${r.perRequest.bare[t]}`)]),
    ),
    '',
    ...(saturated.length
      ? [
          '## Unthrottled (capacity)',
          '',
          `One 10 s window per target with ${input.connections} connections and no rate limit: what the target sustains on this machine now. Target: the API ≥ 0.7 of the bare route.`,
          '',
          table(
            ['endpoint', 'API req/s', 'bare req/s', 'ratio (API ÷ bare)', 'API p50 / p99 ms', 'bare p50 / p99 ms', 'errors API / bare'],
            saturated.map((r) => [
              r.endpoint,
              r.saturation.api?.requestsPerSecond ?? '–',
              r.saturation.bare?.requestsPerSecond ?? '–',
              ratio(r.saturation.api?.requestsPerSecond ?? 0, r.saturation.bare?.requestsPerSecond ?? 0),
              `${r.saturation.api?.p50Ms} / ${r.saturation.api?.p99Ms}`,
              `${r.saturation.bare?.p50Ms} / ${r.saturation.bare?.p99Ms}`,
              `${r.saturation.api?.errors} / ${r.saturation.bare?.errors}`,
            ]),
          ),
          '',
        ]
      : []),
    '## Query plans of the list queries (EXPLAIN (ANALYZE, BUFFERS), as the API issues them)',
    '',
    "Each statement was compiled by the API's own repository functions (api/dist) on Kysely and explained with its parameters, on the seeded database before the load.",
    '',
    ...input.explained.flatMap((q) => [
      `### ${q.endpoint}: ${q.step}`,
      '',
      `Indexes used: ${q.indexes.length ? q.indexes.map((i) => `\`${i}\``).join(', ') : 'none'}${q.seqScans.length ? `; sequential scans: ${q.seqScans.join(', ')}` : '; no sequential scan'}; execution ${q.executionMs} ms.`,
      '',
      '```sql',
      q.sql,
      '```',
      '',
      '```',
      q.plan,
      '```',
      '',
    ]),
  ].join('\n');
  return { raw: { ...input }, summary, plots: apiPlots(e) };
}
