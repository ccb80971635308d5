import { describe, expect, it } from 'vitest';
import { computeConnectionQuality, qualityInputs } from './ConnectionQuality.js';

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
    const before = { packets: 1000, lost: 100, jitter: 0.004, rtt: 0.05 };
    const after = { packets: 1100, lost: 101, jitter: 0.004, rtt: 0.05 };
    const inputs = qualityInputs(before, after, 10, true);
    expect(inputs.lossRatio).toBeCloseTo(1 / 101);
    expect(inputs.rttMs).toBe(50);
    expect(computeConnectionQuality(inputs)).toBe('excellent');
    expect(qualityInputs(after, after, 10, true).flowing).toBe(false);
    expect(qualityInputs(after, after, 10, false).flowing).toBe(true);
  });
});
