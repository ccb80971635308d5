// The soak's memory figures: the leak slope of a memory series, and the API's memory by kind.
import { leastSquares, round } from '../common/stats.js';

export interface MemorySlope {
  slopeMiBPerHour: number;
  slopeStdError: number;
  r2: number;
  points: number;
}

/** Ordinary least squares of MiB against hours over the samples (minute, MiB) after the warm-up. */
export function memorySlope(series: readonly (readonly [number, number])[], warmUpMs: number): MemorySlope {
  const fit = leastSquares(series.filter(([minute]) => minute * 60_000 >= warmUpMs).map(([minute, mib]) => [minute / 60, mib]));
  return { slopeMiBPerHour: round(fit.slope, 1), slopeStdError: round(fit.slopeStdError, 1), r2: round(fit.r2, 2), points: fit.n };
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
