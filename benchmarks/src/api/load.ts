// One measured window of autocannon at a fixed request rate against one target.
import autocannon from 'autocannon';
import { percentile, round } from '../common/stats.js';

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  url: string;
  /** Requests per second over all connections (autocannon `overallRate`). */
  rate: number;
  connections: number;
  durationSeconds: number;
  /** autocannon instances (default STAGGER; 1 for a warm-up). */
  instances?: number;
  /** Called for every request: a fresh path, token and body each time. */
  next(): RequestSpec;
}

export interface LoadResult {
  rate: number;
  connections: number;
  durationSeconds: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
  /** Non-2xx answers, connection errors and timeouts. */
  errors: number;
  statusCodes: Record<string, number>;
  /** Latency (ms) at the percentiles of PERCENTILES, for the plots. */
  curve: [number, number][];
}

/** One window's raw figures: `summarize` turns one or several of them into a LoadResult. */
export interface Window {
  rate: number;
  connections: number;
  durationSeconds: number;
  /** Seconds autocannon actually ran. */
  elapsedSeconds: number;
  /** Latencies (ms) of the 2xx answers. */
  latencies: number[];
  non2xx: number;
  connectionErrors: number;
  statusCodes: Record<string, number>;
}

export const PERCENTILES = [10, 25, 50, 75, 90, 95, 99, 99.9];

/**
 * autocannon's rate limit gives each connection its quota for the second at every second tick, so
 * all connections fire together at the start of each second. To come closer to evenly spaced
 * arrivals a fixed-rate window runs STAGGER autocannon instances, each with 1/STAGGER of the rate
 * and of the connections, started 1/STAGGER s apart: bursts of rate/STAGGER every 1/STAGGER s.
 */
export const STAGGER = 10;

export async function runLoad(options: LoadOptions): Promise<Window> {
  const instances = options.rate > 0 ? Math.min(options.instances ?? STAGGER, options.rate) : 1;
  const parts = await Promise.all(
    Array.from({ length: instances }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, (i * 1000) / instances));
      return runInstance(options, Math.max(1, Math.round(options.connections / instances)), options.rate > 0 ? Math.round(options.rate / instances) : 0);
    }),
  );
  const statusCodes: Record<string, number> = {};
  for (const part of parts) for (const [code, n] of Object.entries(part.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  return {
    rate: options.rate,
    connections: parts.reduce((n, p) => n + p.connections, 0),
    durationSeconds: options.durationSeconds,
    // Every instance ran durationSeconds; together they ran one window of that length (plus the stagger).
    elapsedSeconds: parts.reduce((n, p) => n + p.elapsedSeconds, 0) / parts.length,
    latencies: parts.flatMap((p) => p.latencies),
    non2xx: parts.reduce((n, p) => n + p.non2xx, 0),
    connectionErrors: parts.reduce((n, p) => n + p.connectionErrors, 0),
    statusCodes,
  };
}

async function runInstance(options: LoadOptions, connections: number, rate: number): Promise<Window> {
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections,
        // 0 = as fast as the connections go (a saturation window)
        ...(rate > 0 ? { overallRate: rate } : {}),
        duration: options.durationSeconds,
        // autocannon 9 "corrects" coordinated omission with an expected interval of ceil(1 / per-connection
        // rate) = 1 ms and so records phantom 1, 2, 3 … ms samples for every slow answer; we keep the raw
        // per-request latencies instead (and report the achieved rate next to the asked one).
        ignoreCoordinatedOmission: rate > 0,
        requests: [{ method: 'GET', path: '/', setupRequest: (req) => ({ ...req, ...options.next() }) }],
      },
      (err: unknown, res: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
  return {
    rate,
    connections,
    durationSeconds: options.durationSeconds,
    elapsedSeconds: result.duration,
    latencies,
    non2xx: result.non2xx,
    connectionErrors: result.errors,
    statusCodes,
  };
}

/** Percentiles over every window's samples together; rates over their summed time. */
export function summarize(windows: Window[]): LoadResult {
  const latencies = windows.flatMap((w) => w.latencies);
  const seconds = windows.reduce((n, w) => n + w.elapsedSeconds, 0);
  const non2xx = windows.reduce((n, w) => n + w.non2xx, 0);
  const statusCodes: Record<string, number> = {};
  for (const w of windows) for (const [code, n] of Object.entries(w.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const first = windows[0];
  return {
    rate: first?.rate ?? 0,
    connections: first?.connections ?? 0,
    durationSeconds: round(seconds, 1),
    requests: latencies.length + non2xx,
    requestsPerSecond: round((latencies.length + non2xx) / (seconds || 1), 1),
    p50Ms: round(percentile(latencies, 50), 2),
    p90Ms: round(percentile(latencies, 90), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    p999Ms: round(percentile(latencies, 99.9), 2),
    maxMs: round(percentile(latencies, 100), 2),
    meanMs: round(latencies.reduce((a, b) => a + b, 0) / (latencies.length || 1), 2),
    errors: non2xx + windows.reduce((n, w) => n + w.connectionErrors, 0),
    statusCodes,
    curve: PERCENTILES.map((p) => [p, round(percentile(latencies, p), 2)]),
  };
}
