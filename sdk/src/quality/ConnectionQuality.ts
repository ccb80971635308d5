import type { StatsSnapshot } from './rtc-stats.js';

/**
 * How well a participant's media is getting through:
 *
 * | level       | rule (first match wins)                                                            |
 * | ----------- | ---------------------------------------------------------------------------------- |
 * | `lost`      | its unmuted tracks delivered no new packets over the last interval                 |
 * | `excellent` | server score ≥ 9, loss < 2 %, RTT < 150 ms, jitter < 30 ms                          |
 * | `good`      | server score ≥ 6, loss < 8 %, RTT < 300 ms, jitter < 60 ms                          |
 * | `poor`      | anything else                                                                       |
 *
 * The server score (0-10) is mediasoup's: for the local participant the lowest score of its
 * producers (uplink as the SFU receives it), for a remote one the lowest producer score of the
 * tracks you receive from it. Loss, jitter and RTT come from the browser's `getStats()` over the
 * last interval (remote-inbound-rtp for what you send, inbound-rtp for what you receive, the
 * selected ICE candidate pair for RTT), per track, and the worst track counts: audio losing 10 %
 * reads poor even while NACK/RTX repair the video's losses and its many packets would dilute a
 * pooled ratio. A missing measure does not count against the level.
 *
 * Loss is the link's, before repair: the share of packets reported lost or the share resent on a
 * NACK (retransmittedPacketsSent/Received), whichever is higher. The far end counts a packet it got
 * back by retransmission as received (mediasoup does for Opus, which it NACKs, and Chromium resends),
 * so a 10 % lossy link read only from packetsLost looks clean while the user gets the resends' delay
 * and overhead, and the SFU's score forgives repaired loss too.
 *
 * A remote participant's level is also never better than the level its own SDK reports for itself
 * (relayed by the SFU): what you receive from someone whose uplink loses 10 % arrives repaired by
 * the SFU's NACKs, so only the publisher's side sees that loss.
 */
// The same union as the protocol's ConnectionQualityLevel (the grade travels in reportConnectionQuality
// and participantQuality; Room and RemoteParticipant assign one to the other, so they cannot drift).
export type ConnectionQuality = 'excellent' | 'good' | 'poor' | 'lost';

const RANK: Record<ConnectionQuality, number> = { lost: 0, poor: 1, good: 2, excellent: 3 };

/** The worse of two levels (an unknown one does not count). */
export function worseQuality(a: ConnectionQuality, b: ConnectionQuality | undefined): ConnectionQuality {
  return b !== undefined && RANK[b] < RANK[a] ? b : a;
}

export interface QualityInputs {
  /** mediasoup score 0..10, null when unknown. */
  serverScore: number | null;
  /** Packets lost / packets expected over the interval, 0..1, null when unknown. */
  lossRatio: number | null;
  rttMs: number | null;
  jitterMs: number | null;
  /** False when unmuted tracks moved no packets over the interval. */
  flowing: boolean;
}

export function computeConnectionQuality(inputs: QualityInputs): ConnectionQuality {
  if (!inputs.flowing) return 'lost';
  const within = (value: number | null, limit: number): boolean => value === null || value < limit;
  const score = inputs.serverScore;
  if ((score === null || score >= 9) && within(inputs.lossRatio, 0.02) && within(inputs.rttMs, 150) && within(inputs.jitterMs, 30)) return 'excellent';
  if ((score === null || score >= 6) && within(inputs.lossRatio, 0.08) && within(inputs.rttMs, 300) && within(inputs.jitterMs, 60)) return 'good';
  return 'poor';
}

/** Counters of one direction's RTP streams at one moment, summed over a participant's tracks. */
export interface RtpTotals {
  packets: number;
  lost: number;
  /** Packets resent on a NACK (see RtpStreamStats.retransmittedPackets). */
  retransmitted: number;
  /** Highest jitter seen, seconds (as getStats reports it). */
  jitter: number | null;
  /** Highest round-trip time seen, seconds. */
  rtt: number | null;
}

/** Sums a participant's tracks' RTP counters: inbound streams when receiving, outbound + remote-inbound when sending. */
export function rtpTotals(snapshots: readonly StatsSnapshot[], direction: 'in' | 'out'): RtpTotals {
  const totals: RtpTotals = { packets: 0, lost: 0, retransmitted: 0, jitter: null, rtt: null };
  const max = (a: number | null, b: number | null): number | null => (b === null ? a : Math.max(a ?? 0, b));
  for (const snapshot of snapshots) {
    for (const s of snapshot.rtp) {
      totals.packets += s.packets ?? 0;
      totals.retransmitted += s.retransmittedPackets ?? 0;
      if (direction === 'in') {
        totals.lost += Math.max(0, s.packetsLost ?? 0);
        totals.jitter = max(totals.jitter, s.jitter);
      }
    }
    if (direction === 'out') {
      for (const r of snapshot.remoteInbound) {
        totals.lost += Math.max(0, r.packetsLost ?? 0);
        totals.jitter = max(totals.jitter, r.jitter);
        totals.rtt = max(totals.rtt, r.roundTripTime);
      }
    }
    totals.rtt = max(totals.rtt, snapshot.candidatePairRtt);
  }
  return totals;
}

/** The quality inputs of an interval from two successive totals. */
export function qualityInputs(previous: RtpTotals | undefined, current: RtpTotals, serverScore: number | null, expectFlow: boolean): QualityInputs {
  const packets = previous ? current.packets - previous.packets : current.packets;
  const lost = Math.max(0, previous ? current.lost - previous.lost : current.lost);
  const resent = Math.max(0, previous ? current.retransmitted - previous.retransmitted : current.retransmitted);
  return {
    serverScore,
    lossRatio: packets + lost > 0 ? Math.max(lost / (packets + lost), packets > 0 ? Math.min(1, resent / packets) : 0) : null,
    rttMs: current.rtt === null ? null : current.rtt * 1000,
    jitterMs: current.jitter === null ? null : current.jitter * 1000,
    flowing: !expectFlow || previous === undefined || packets > 0,
  };
}

/** One track's inputs over an interval, and whether it should have moved packets (unmuted, not paused). */
export interface TrackInputs {
  inputs: QualityInputs;
  expectFlow: boolean;
}

/**
 * One participant's inputs from its tracks' inputs over the same interval: the worst track's loss,
 * RTT and jitter; flowing unless the tracks expected to flow all moved no packets.
 */
export function worstTrackInputs(perTrack: readonly TrackInputs[], serverScore: number | null): QualityInputs {
  const worst = (pick: (inputs: QualityInputs) => number | null): number | null =>
    perTrack.reduce<number | null>((max, { inputs }) => {
      const value = pick(inputs);
      return value === null ? max : Math.max(max ?? value, value);
    }, null);
  const expected = perTrack.filter((t) => t.expectFlow);
  return {
    serverScore,
    lossRatio: worst((i) => i.lossRatio),
    rttMs: worst((i) => i.rttMs),
    jitterMs: worst((i) => i.jitterMs),
    flowing: expected.length === 0 || expected.some((t) => t.inputs.flowing),
  };
}
