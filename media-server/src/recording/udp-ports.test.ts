import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { freeUdpPortPair, releaseUdpPorts } from './udp-ports.js';

describe('freeUdpPortPair', () => {
  it('hands out RTP/RTCP pairs (RTCP = RTP + 1, as FFmpeg binds) that are free and never handed out twice while held', async () => {
    // As many as 50 calls' recorders starting at once.
    const pairs = await Promise.all(Array.from({ length: 200 }, () => freeUdpPortPair()));
    const ports = pairs.flatMap((p) => [p.rtp, p.rtcp]);
    expect(new Set(ports).size).toBe(ports.length);
    for (const p of pairs) expect(p.rtcp).toBe(p.rtp + 1);
    // Free: a recorder can bind both.
    const sockets = await Promise.all(
      pairs
        .slice(0, 20)
        .flatMap((p) => [p.rtp, p.rtcp])
        .map(
          (port) =>
            new Promise<dgram.Socket>((resolve, reject) => {
              const socket = dgram.createSocket('udp4');
              socket.once('error', reject);
              socket.bind(port, '127.0.0.1', () => resolve(socket));
            }),
        ),
    );
    for (const socket of sockets) socket.close();
    for (const p of pairs) releaseUdpPorts(p);
  });
});
