import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles per attempt, stays within [ceiling/2, ceiling] and never passes the cap', () => {
    expect(backoffDelay(1, 250, 5000, () => 0)).toBe(125);
    expect(backoffDelay(1, 250, 5000, () => 1)).toBe(250);
    expect(backoffDelay(3, 250, 5000, () => 1)).toBe(1000);
    expect(backoffDelay(20, 250, 5000, () => 1)).toBe(5000);
    for (let attempt = 1; attempt < 30; attempt++) {
      const delay = backoffDelay(attempt, 250, 5000);
      expect(delay).toBeLessThanOrEqual(5000);
      expect(delay).toBeGreaterThanOrEqual(Math.min(5000, 250 * 2 ** (attempt - 1)) / 2);
    }
  });
});
