import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs/promises';

/** Ports handed to this process's recorders and not yet released: never handed out twice. */
const reserved = new Set<number>();

async function bindUdp(port: number): Promise<dgram.Socket | undefined> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

/**
 * An RTP port and the next one (RTCP), both free right now and reserved for the caller until
 * `releaseUdpPorts`. The pair because FFmpeg's SDP input ignores `a=rtcp:` and always binds RTP+1
 * for RTCP: with another RTCP port, a busy RTP+1 made the recorder fail to start, again on every
 * restart (same ports), and RTCP went nowhere. Reserved because the OS may hand a port it just
 * freed to the next caller: two recorders starting together could otherwise get the same one.
 */
export async function freeUdpPortPair(): Promise<{ rtp: number; rtcp: number }> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const first = await bindUdp(0);
    if (!first) continue;
    const rtp = first.address().port;
    const second = rtp < 65_535 && !reserved.has(rtp) && !reserved.has(rtp + 1) ? await bindUdp(rtp + 1) : undefined;
    await new Promise<void>((resolve) => first.close(() => resolve()));
    if (!second) continue;
    await new Promise<void>((resolve) => second.close(() => resolve()));
    reserved.add(rtp).add(rtp + 1);
    return { rtp, rtcp: rtp + 1 };
  }
  throw new Error('no free pair of UDP ports on 127.0.0.1');
}

/** Gives back a pair from `freeUdpPortPair` once its recorder is gone. */
export function releaseUdpPorts(ports: { rtp: number; rtcp: number }): void {
  reserved.delete(ports.rtp);
  reserved.delete(ports.rtcp);
}

/** The inodes of the UDP sockets bound to `port` on any address (Linux: /proc/net/udp and udp6). */
async function udpSocketInodes(port: number): Promise<string[]> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes: string[] = [];
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    const text = await fs.readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns[1]?.endsWith(hex) && columns[9]) inodes.push(columns[9]);
    }
  }
  return inodes;
}

/** Whether process `pid` holds one of the sockets `inodes` (its fds link to `socket:[inode]`). */
async function processHoldsSocket(pid: number, inodes: readonly string[]): Promise<boolean> {
  if (inodes.length === 0) return false;
  const wanted = new Set(inodes.map((inode) => `socket:[${inode}]`));
  const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (wanted.has(target)) return true;
  }
  return false;
}

/**
 * Resolves once `child` itself has bound `port` (the recorder process opened its input), so that
 * the first RTP packet it gets is the keyframe requested right after; rejects when the process
 * exits first or after `timeoutMs`. The socket must be the child's: between `freeUdpPortPair` and
 * the process's bind another process may take the port (a browser's ICE socket, a mediasoup
 * transport), and a recorder taken as listening then was connected to a port it could never bind,
 * again on every restart (fresh-clone CI run, 5 Dec: one track's recorder died 5 times in 5 s).
 */
export async function waitForUdpListener(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(100, delay * 2)) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the recorder process exited (${child.exitCode ?? child.signalCode}) before listening`);
    if (child.pid !== undefined && (await processHoldsSocket(child.pid, await udpSocketInodes(port)))) return;
    if (Date.now() > deadline) throw new Error(`the recorder process did not listen on UDP ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
