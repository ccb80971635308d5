// The one reader of the browser's WebRTC stats: the connection-quality monitor, the quality
// reporter and the join's first-frame wait all take a typed StatsSnapshot from here instead of
// walking RTCStatsReport entries themselves.

/** One RTP stream: `inbound-rtp` when receiving, `outbound-rtp` (one per simulcast layer) when sending. */
export interface RtpStreamStats {
  /** packetsReceived (in) or packetsSent (out). */
  packets: number | null;
  /** bytesReceived (in) or bytesSent (out). */
  bytes: number | null;
  /** Receiving only: packets lost (can be negative with duplicates, as the browser reports it). */
  packetsLost: number | null;
  /**
   * retransmittedPacketsReceived (in) or retransmittedPacketsSent (out): packets resent on a NACK,
   * i.e. lost on the link and repaired (null where the browser does not report it: Firefox).
   */
  retransmittedPackets: number | null;
  /** Receiving only: seconds. */
  jitter: number | null;
  framesDecoded: number | null;
  framesPerSecond: number | null;
  frameWidth: number | null;
  frameHeight: number | null;
  /** Receiving only: total jitter-buffer delay, seconds, over `jitterBufferEmittedCount` samples. */
  jitterBufferDelay: number | null;
  jitterBufferEmittedCount: number | null;
}

/** What the far end reports about a stream we send (`remote-inbound-rtp`). */
export interface RemoteInboundStats {
  packetsLost: number | null;
  /** Seconds. */
  jitter: number | null;
  /** Seconds. */
  roundTripTime: number | null;
}

/** A typed view of one sender's or receiver's `getStats()` at one moment. */
export interface StatsSnapshot {
  direction: 'in' | 'out';
  rtp: RtpStreamStats[];
  remoteInbound: RemoteInboundStats[];
  /** Current RTT of the nominated ICE candidate pair, seconds (the highest if several). */
  candidatePairRtt: number | null;
}

/** Anything with WebRTC stats: a LocalTrack or RemoteTrack, a mediasoup-client producer or consumer. */
export interface StatsSource {
  getStats(): Promise<RTCStatsReport | undefined>;
}

type Entry = Record<string, unknown> & { type?: string };

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/** Parses a report: inbound streams for `in`, outbound ones for `out`. */
export function statsSnapshot(report: RTCStatsReport, direction: 'in' | 'out'): StatsSnapshot {
  const snapshot: StatsSnapshot = { direction, rtp: [], remoteInbound: [], candidatePairRtt: null };
  report.forEach((s: Entry) => {
    if (s.type === (direction === 'in' ? 'inbound-rtp' : 'outbound-rtp')) {
      snapshot.rtp.push({
        packets: num(direction === 'in' ? s.packetsReceived : s.packetsSent),
        bytes: num(direction === 'in' ? s.bytesReceived : s.bytesSent),
        packetsLost: num(s.packetsLost),
        retransmittedPackets: num(direction === 'in' ? s.retransmittedPacketsReceived : s.retransmittedPacketsSent),
        jitter: num(s.jitter),
        framesDecoded: num(s.framesDecoded),
        framesPerSecond: num(s.framesPerSecond),
        frameWidth: num(s.frameWidth),
        frameHeight: num(s.frameHeight),
        jitterBufferDelay: num(s.jitterBufferDelay),
        jitterBufferEmittedCount: num(s.jitterBufferEmittedCount),
      });
    } else if (s.type === 'remote-inbound-rtp') {
      snapshot.remoteInbound.push({ packetsLost: num(s.packetsLost), jitter: num(s.jitter), roundTripTime: num(s.roundTripTime) });
    } else if (s.type === 'candidate-pair' && s.nominated === true) {
      const rtt = num(s.currentRoundTripTime);
      if (rtt !== null) snapshot.candidatePairRtt = Math.max(snapshot.candidatePairRtt ?? 0, rtt);
    }
  });
  return snapshot;
}

/** Reads a source's stats; undefined when it has none (not published, closed) or reading failed. */
export async function readStats(source: StatsSource, direction: 'in' | 'out'): Promise<StatsSnapshot | undefined> {
  const report = await source.getStats().catch(() => undefined);
  return report ? statsSnapshot(report, direction) : undefined;
}
