import { describe, expect, it } from 'vitest';
import { SampleUploader } from './SampleUploader.js';
import { waitFor } from '@telemed/test-kit';

describe('SampleUploader', () => {
  it('sends in order in bounded batches, one request at a time, and retries a failed batch', async () => {
    const delivered: number[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let failuresLeft = 2;
    const uploader = new SampleUploader<{ n: number }>({
      maxBuffered: 100,
      maxBatch: 3,
      retryBaseMs: 10,
      retryMaxMs: 20,
      send: async (batch) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        if (failuresLeft-- > 0) throw new Error('API unreachable');
        delivered.push(batch.map((s) => s.n));
      },
    });
    uploader.push([1, 2, 3, 4].map((n) => ({ n })));
    uploader.push([5].map((n) => ({ n })));
    await waitFor('the queue to drain', () => uploader.pending === 0);
    expect(delivered.flat()).toEqual([1, 2, 3, 4, 5]);
    expect(delivered.every((b) => b.length <= 3)).toBe(true);
    expect(maxInFlight).toBe(1);
    expect(uploader.counts).toEqual({ sent: 5, dropped: 0, failedAttempts: 2 });
    uploader.close();
  });

  it('keeps at most maxBuffered samples while sending fails (the oldest go) and push never waits', async () => {
    const uploader = new SampleUploader<{ n: number }>({
      maxBuffered: 10,
      maxBatch: 5,
      retryBaseMs: 60_000,
      retryMaxMs: 60_000,
      send: () => Promise.reject(new Error('down')),
    });
    // push never waits: it is synchronous (no promise) and the buffer is bounded before any retry;
    // not a time bound, which a loaded machine can miss.
    const results = Array.from({ length: 1000 }, (_, i) => uploader.push([{ n: i }]));
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(uploader.pending).toBe(10);
    expect(uploader.counts.dropped).toBe(990);
    uploader.close();
  });
});
