import { describe, expect, it } from 'vitest';
import { KeyFrameGate, PUBLISHER_KEYFRAME_WINDOW_MS } from './KeyFrameGate.js';

function gateAt(start = 1000): { gate: KeyFrameGate; at: (ms: number) => void } {
  let now = start;
  return { gate: new KeyFrameGate(() => now), at: (ms) => (now = ms) };
}

/** A gate whose publisher was asked for a keyframe at 1000 ms and answered at 1040 ms. */
function answeredAt1040(): { gate: KeyFrameGate; at: (ms: number) => void } {
  const clock = gateAt(1000);
  clock.gate.requestSent();
  clock.at(1040);
  clock.gate.keyFrameReceived();
  return clock;
}

describe('KeyFrameGate', () => {
  it('lets a consumer start at once when the publisher has not been asked for a keyframe', () => {
    const { gate } = gateAt();
    expect(gate.delayMs()).toBe(0);
  });

  it('holds a consumer back until the publisher window after an answered request has passed', () => {
    const { gate, at } = answeredAt1040();
    at(1100);
    const wait = gate.delayMs();
    expect(wait).toBeGreaterThan(1040 + PUBLISHER_KEYFRAME_WINDOW_MS - 1100);
    expect(wait).toBeLessThan(1040 + PUBLISHER_KEYFRAME_WINDOW_MS - 1100 + 50);
    at(1040 + PUBLISHER_KEYFRAME_WINDOW_MS + 50);
    expect(gate.delayMs()).toBe(0);
  });

  it('does not hold a consumer back while a request is pending: its keyframe serves the consumer too', () => {
    const { gate, at } = answeredAt1040();
    at(1100);
    gate.requestSent();
    expect(gate.delayMs()).toBe(0);
  });

  it('counts only the first keyframe packet after a request (one per simulcast layer), not unrequested keyframes', () => {
    const { gate, at } = answeredAt1040();
    const first = gate.delayMs();
    at(1045);
    gate.keyFrameReceived();
    at(1040);
    expect(gate.delayMs()).toBe(first);
  });
});
