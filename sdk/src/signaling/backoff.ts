/**
 * Delay before retry `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`, with
 * "equal jitter" (half fixed, half random) so that a room full of clients that lost the same
 * server do not all come back in the same millisecond. The SDK's one retry backoff: room
 * reconnection and ICE restarts (through DefaultReconnectPolicy), the /events socket, message
 * sends and quality uploads all wait with it.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
