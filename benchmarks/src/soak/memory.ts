// The soak's memory figures: the leak slope of a memory series, and the API's memory by kind.
import { leastSquares, round } from '../common/stats.js';

export interface MemorySlope {
  slopeMiBPerHour: number;
  slopeStdError: number;
  r2: number;
  points: number;
  /** The same fit over the run's second half: a leak keeps its slope there, a warm-up levels off. */
  lateSlopeMiBPerHour: number;
  lateSlopeStdError: number;
}

/** Ordinary least squares of MiB against hours over the samples (minute, MiB) after the warm-up, and over the second half. */
export function memorySlope(series: readonly (readonly [number, number])[], warmUpMs: number): MemorySlope {
  const inHours = (from: number): [number, number][] => series.filter(([minute]) => minute >= from).map(([minute, mib]) => [minute / 60, mib]);
  const fit = leastSquares(inHours(warmUpMs / 60_000));
  const late = leastSquares(inHours((series.at(-1)?.[0] ?? 0) / 2));
  return {
    slopeMiBPerHour: round(fit.slope, 1),
    slopeStdError: round(fit.slopeStdError, 1),
    r2: round(fit.r2, 2),
    points: fit.n,
    lateSlopeMiBPerHour: round(late.slope, 1),
    lateSlopeStdError: round(late.slopeStdError, 1),
  };
}

/** JavaScript heap in use and committed (V8's pages, live objects or not), and memory outside it (ArrayBuffers: PGlite's WebAssembly memory is one), MiB. */
export interface ApiMemory {
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
}

/** The API process's memory by kind, from its /metrics (prom-client's process metrics); undefined when it did not answer. */
export async function readApiMemory(apiUrl: string): Promise<ApiMemory | undefined> {
  try {
    const text = await (await fetch(`${apiUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const mib = (metric: string): number => round(Number(new RegExp(`^${metric} ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20, 1);
    const memory = {
      heapUsedMiB: mib('nodejs_heap_size_used_bytes'),
      heapTotalMiB: mib('nodejs_heap_size_total_bytes'),
      externalMiB: mib('nodejs_external_memory_bytes'),
    };
    return Object.values(memory).every(Number.isFinite) ? memory : undefined;
  } catch {
    return undefined;
  }
}
