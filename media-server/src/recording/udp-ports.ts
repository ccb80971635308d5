import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs/promises';

/** A UDP port free on 127.0.0.1 right now (the OS picks it). */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Whether some process has a UDP socket bound to `port` (Linux: /proc/net/udp and udp6). */
async function udpPortBound(port: number): Promise<boolean> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    const text = await fs.readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local && `${local} `.endsWith(hex)) return true;
    }
  }
  return false;
}

/**
 * Resolves once `port` is bound (the recorder process opened its input), so that the first RTP
 * packet it gets is the keyframe requested right after; rejects when the process exits first or
 * after `timeoutMs`.
 */
export async function waitForUdpListener(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(100, delay * 2)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the recorder process exited (${child.exitCode ?? child.signalCode}) before listening`);
    if (await udpPortBound(port)) return;
    if (Date.now() > deadline) throw new Error(`the recorder process did not listen on UDP ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
