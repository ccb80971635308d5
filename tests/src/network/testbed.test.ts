// The impairment bed itself: loss on a link must be silent, as on a real link. A drop inside the
// sender's own stack fails its sendto() (EPERM), and Chromium answers that by sending again, which
// once turned 10 % uplink loss into 1 % for Chromium only (impaired-call.test.ts).
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@telemed/test-kit';
import { createTestBed, type Namespace, type TestBed } from './testbed.js';

const run = promisify(execFile);
const PACKETS = 400;

/** Sends `count` datagrams from inside `ns` to host:port, 1 ms apart; resolves with the send errors seen. */
async function sendFrom(ns: Namespace, host: string, port: number, count: number): Promise<number> {
  const script = `
    const s = require('node:dgram').createSocket('udp4');
    let errors = 0, i = 0;
    const next = () => {
      if (i++ === ${count}) { console.log(errors); s.close(); return; }
      s.send(Buffer.alloc(200), ${port}, '${host}', (e) => { if (e) errors++; setTimeout(next, 1); });
    };
    next();`;
  const { stdout } = await run('ip', ['netns', 'exec', ns.name, process.execPath, '-e', script]);
  return Number(stdout.trim());
}

describe('impairment test bed', () => {
  let bed: TestBed;
  let ns: Namespace;
  beforeAll(async () => {
    bed = await createTestBed();
    ns = await bed.addNamespace();
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('drops the uplink share asked for without the sender noticing', async () => {
    const receiver = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => receiver.bind(0, bed.hostIp, resolve));
    let received = 0;
    receiver.on('message', () => received++);
    // A new veth pair passes nothing until the kernel has activated it (linkwatch, up to ~1 s).
    await waitFor(
      'the new link passing packets',
      async () => {
        await sendFrom(ns, bed.hostIp, receiver.address().port, 1);
        await new Promise((resolve) => setTimeout(resolve, 100));
        return received > 0 ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    received = 0;
    await ns.impair({ up: { lossPercent: 30 } });
    const errors = await sendFrom(ns, bed.hostIp, receiver.address().port, PACKETS);
    // The last datagrams are on their way at most a moment: wait until nothing new arrives.
    let seen = -1;
    while (seen !== received) {
      seen = received;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    receiver.close();
    await ns.impair({});
    expect(errors).toBe(0);
    // 30 % of 400: 120 lost; 6 standard deviations (sqrt(400 * 0.3 * 0.7) ≈ 9.2) either way.
    expect(PACKETS - received).toBeGreaterThan(120 - 55);
    expect(PACKETS - received).toBeLessThan(120 + 55);
  });
});
