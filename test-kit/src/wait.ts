/**
 * The shortest deadline any wait gets, whatever its caller asks: deadlines in tests catch a hang,
 * not slowness. Waits that take 100 ms to 2 s on an idle machine took 20-60 s on a busy 2-core CI
 * machine (load 20-30).
 */
export const MIN_WAIT_MS = 30_000;

export interface WaitOptions {
  /** The deadline; raised to MIN_WAIT_MS when lower. */
  timeoutMs?: number;
  /** Pause between probes (default 100 ms). */
  intervalMs?: number;
  /** What the probes last saw (kept by the probe in a variable), for the timeout's message. */
  lastSeen?: () => string | undefined;
}

type Probe<T> = () => T | undefined | false | Promise<T | undefined | false>;

/**
 * Thrown by a probe when waiting longer cannot help (the process it waits for has exited): the
 * wait ends at once with this error instead of retrying until its deadline.
 */
export class WaitAborted extends Error {
  override name = 'WaitAborted';
}

/**
 * Probes until `probe` returns something other than undefined or false, and returns it. A probe
 * that throws counts as "not yet", except with WaitAborted; the last error and `lastSeen()` are
 * part of the timeout's message.
 */
export async function waitFor<T>(what: string, probe: Probe<T>, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = Math.max(options.timeoutMs ?? MIN_WAIT_MS, MIN_WAIT_MS);
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (error instanceof WaitAborted) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const seen = options.lastSeen?.();
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? '' : ` (last error: ${String(lastError)})`}${seen === undefined ? '' : `; last seen: ${seen}`}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
