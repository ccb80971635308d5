import type { TestPage } from './browser.js';

/** One inbound RTP stream as the receiving browser's getStats() reports it. */
export interface InboundSample {
  from: string;
  kind: 'audio' | 'video';
  source: string;
  framesDecoded: number;
  bytesReceived: number;
  packetsReceived: number;
}

/** Reads every remote track's inbound-rtp stats through the SDK's public RemoteTrack.getStats(). */
export function inboundStats(page: TestPage): Promise<InboundSample[]> {
  return page.evaluate(async () => {
    interface StatsTrack { source: string; getStats(): Promise<RTCStatsReport> }
    interface Handle { room?: { remoteParticipants: Map<string, { identity: string; tracks: StatsTrack[] }> } }
    const room = (window as unknown as { telemed?: Handle }).telemed?.room;
    const samples: InboundSample[] = [];
    if (!room) return samples;
    for (const participant of room.remoteParticipants.values()) {
      for (const track of participant.tracks) {
        const report = await track.getStats();
        report.forEach((s: Record<string, unknown>) => {
          if (s.type !== 'inbound-rtp') return;
          samples.push({
            from: participant.identity,
            kind: s.kind as 'audio' | 'video',
            source: track.source,
            framesDecoded: Number(s.framesDecoded ?? 0),
            bytesReceived: Number(s.bytesReceived ?? 0),
            packetsReceived: Number(s.packetsReceived ?? 0),
          });
        });
      }
    }
    return samples;
  });
}

/**
 * The shortest deadline any wait gets, whatever its caller asks: deadlines here catch a hang, not
 * slowness. Waits that take 1-2 s on an idle machine took 20-60 s on a busy 2-core CI machine.
 */
export const MIN_WAIT_MS = 30_000;

/** Polls `probe` until it returns a value, or throws with the last error seen (after at least MIN_WAIT_MS). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = MIN_WAIT_MS, intervalMs = 250): Promise<T> {
  timeoutMs = Math.max(timeoutMs, MIN_WAIT_MS);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
