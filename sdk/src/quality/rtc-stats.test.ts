import { describe, expect, it } from 'vitest';
import { readStats, statsSnapshot } from './rtc-stats.js';

// RTCStatsReport is a read-only map of stats objects by id; Node has none, a Map has the same shape.
const report = (entries: Record<string, unknown>[]): RTCStatsReport => new Map(entries.map((e, i) => [String(i), e])) as unknown as RTCStatsReport;

describe('statsSnapshot', () => {
  const entries = [
    {
      type: 'inbound-rtp',
      kind: 'video',
      packetsReceived: 900,
      bytesReceived: 500_000,
      packetsLost: 3,
      retransmittedPacketsReceived: 4,
      jitter: 0.004,
      framesDecoded: 120,
      framesPerSecond: 30,
      frameWidth: 640,
      frameHeight: 360,
      jitterBufferDelay: 6,
      jitterBufferEmittedCount: 120,
    },
    { type: 'outbound-rtp', packetsSent: 1000, bytesSent: 700_000, retransmittedPacketsSent: 12, frameWidth: 1280 },
    { type: 'outbound-rtp', packetsSent: 400, bytesSent: 90_000, frameWidth: 320 },
    { type: 'remote-inbound-rtp', packetsLost: 7, jitter: 0.01, roundTripTime: 0.05 },
    { type: 'candidate-pair', nominated: true, currentRoundTripTime: 0.04 },
    { type: 'candidate-pair', nominated: false, currentRoundTripTime: 0.9 },
    { type: 'codec', mimeType: 'video/VP8' },
  ];

  it('reads the receiving side: inbound streams with their counters, frames and jitter buffer', () => {
    const snapshot = statsSnapshot(report(entries), 'in');
    expect(snapshot.rtp).toEqual([
      {
        packets: 900,
        bytes: 500_000,
        packetsLost: 3,
        retransmittedPackets: 4,
        jitter: 0.004,
        framesDecoded: 120,
        framesPerSecond: 30,
        frameWidth: 640,
        frameHeight: 360,
        jitterBufferDelay: 6,
        jitterBufferEmittedCount: 120,
      },
    ]);
    expect(snapshot.candidatePairRtt).toBe(0.04);
  });

  it('reads the sending side: every outbound layer and what the receiver reports back', () => {
    const snapshot = statsSnapshot(report(entries), 'out');
    expect(snapshot.rtp.map((s) => [s.packets, s.bytes, s.frameWidth, s.packetsLost, s.retransmittedPackets])).toEqual([
      [1000, 700_000, 1280, null, 12],
      [400, 90_000, 320, null, null],
    ]);
    expect(snapshot.remoteInbound).toEqual([{ packetsLost: 7, jitter: 0.01, roundTripTime: 0.05 }]);
  });

  it('gives null for a missing or non-numeric measure, and undefined for a source without stats', async () => {
    const snapshot = statsSnapshot(report([{ type: 'inbound-rtp', packetsReceived: 'x' }]), 'in');
    expect(snapshot.rtp[0]?.packets).toBeNull();
    expect(snapshot.candidatePairRtt).toBeNull();
    expect(await readStats({ getStats: () => Promise.resolve(undefined) }, 'out')).toBeUndefined();
    expect(await readStats({ getStats: () => Promise.reject(new Error('closed')) }, 'in')).toBeUndefined();
  });
});
