import { describe, expect, it } from 'vitest';
import { computeConnectionQuality, qualityInputs, worseQuality, worstTrackInputs } from './ConnectionQuality.js';

const base = { serverScore: 10, lossRatio: 0, rttMs: 40, jitterMs: 5, flowing: true };

describe('connection quality formula', () => {
  it('grades by the documented thresholds, first match wins', () => {
    expect(computeConnectionQuality(base)).toBe('excellent');
    expect(computeConnectionQuality({ ...base, lossRatio: 0.05 })).toBe('good');
    expect(computeConnectionQuality({ ...base, rttMs: 200 })).toBe('good');
    expect(computeConnectionQuality({ ...base, serverScore: 7 })).toBe('good');
    expect(computeConnectionQuality({ ...base, lossRatio: 0.1 })).toBe('poor');
    expect(computeConnectionQuality({ ...base, serverScore: 3 })).toBe('poor');
    expect(computeConnectionQuality({ ...base, jitterMs: 80 })).toBe('poor');
    expect(computeConnectionQuality({ ...base, flowing: false })).toBe('lost');
    expect(computeConnectionQuality({ serverScore: null, lossRatio: null, rttMs: null, jitterMs: null, flowing: true })).toBe('excellent');
  });

  it('measures loss and flow over the interval, not since the start', () => {
    const before = { packets: 1000, lost: 100, retransmitted: 0, jitter: 0.004, rtt: 0.05 };
    const after = { packets: 1100, lost: 101, retransmitted: 0, jitter: 0.004, rtt: 0.05 };
    const inputs = qualityInputs(before, after, 10, true);
    expect(inputs.lossRatio).toBeCloseTo(1 / 101);
    expect(inputs.rttMs).toBe(50);
    expect(computeConnectionQuality(inputs)).toBe('excellent');
    expect(qualityInputs(after, after, 10, true).flowing).toBe(false);
    expect(qualityInputs(after, after, 10, false).flowing).toBe(true);
  });

  it('grades a participant by its worst track: 10 % audio loss is not hidden by video whose losses RTX repaired', () => {
    // 50 audio packets with 5 lost and 300 video packets with none lost in the interval: pooled,
    // 5 / 355 = 1.4 % would read excellent.
    const audio = qualityInputs(
      { packets: 0, lost: 0, retransmitted: 0, jitter: 0.01, rtt: 0.02 },
      { packets: 45, lost: 5, retransmitted: 0, jitter: 0.01, rtt: 0.02 },
      null,
      true,
    );
    const video = qualityInputs(
      { packets: 0, lost: 0, retransmitted: 0, jitter: 0.005, rtt: 0.02 },
      { packets: 300, lost: 0, retransmitted: 0, jitter: 0.005, rtt: 0.02 },
      null,
      true,
    );
    const inputs = worstTrackInputs(
      [
        { inputs: audio, expectFlow: true },
        { inputs: video, expectFlow: true },
      ],
      10,
    );
    expect(inputs.lossRatio).toBeCloseTo(0.1);
    expect(inputs.jitterMs).toBe(10);
    expect(computeConnectionQuality(inputs)).toBe('poor');
  });

  it('counts loss the link caused even when retransmissions repaired it', () => {
    // Chromium's audio on a 10 % lossy uplink: the SFU NACKs Opus and gets the resends, so its
    // receiver reports show 1 of 100 packets lost while 10 were resent.
    const audio = qualityInputs(
      { packets: 0, lost: 0, retransmitted: 0, jitter: 0.01, rtt: 0.02 },
      { packets: 100, lost: 1, retransmitted: 10, jitter: 0.01, rtt: 0.02 },
      null,
      true,
    );
    expect(audio.lossRatio).toBeCloseTo(0.1);
    expect(computeConnectionQuality(audio)).toBe('poor');
    // A clean link resends nothing: the grade is unchanged.
    const clean = qualityInputs(
      { packets: 0, lost: 0, retransmitted: 0, jitter: 0.01, rtt: 0.02 },
      { packets: 100, lost: 0, retransmitted: 0, jitter: 0.01, rtt: 0.02 },
      10,
      true,
    );
    expect(computeConnectionQuality(clean)).toBe('excellent');
  });

  it('takes the worse of a grade and the one a participant reports for itself', () => {
    expect(worseQuality('excellent', 'poor')).toBe('poor');
    expect(worseQuality('poor', 'good')).toBe('poor');
    expect(worseQuality('good', undefined)).toBe('good');
    expect(worseQuality('lost', 'excellent')).toBe('lost');
  });

  it('reads lost when the tracks expected to flow moved nothing, whatever a muted one reports', () => {
    const stalled = qualityInputs(
      { packets: 100, lost: 0, retransmitted: 0, jitter: null, rtt: null },
      { packets: 100, lost: 0, retransmitted: 0, jitter: null, rtt: null },
      null,
      true,
    );
    const muted = qualityInputs(
      { packets: 100, lost: 0, retransmitted: 0, jitter: null, rtt: null },
      { packets: 100, lost: 0, retransmitted: 0, jitter: null, rtt: null },
      null,
      false,
    );
    expect(
      worstTrackInputs(
        [
          { inputs: stalled, expectFlow: true },
          { inputs: muted, expectFlow: false },
        ],
        null,
      ).flowing,
    ).toBe(false);
    expect(worstTrackInputs([{ inputs: muted, expectFlow: false }], null).flowing).toBe(true);
    expect(worstTrackInputs([], null).flowing).toBe(true);
  });
});
