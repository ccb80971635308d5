// Ports for servers that tests and benchmarks start side by side: free on loopback for TCP and
// UDP, and outside the range the kernel takes ports from for outgoing connections.
import dgram from 'node:dgram';
import net from 'node:net';

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive port numbers free for both TCP and UDP on loopback, picked at random in
 * 20000-32767 so that test files running at once rarely collide. The range stays below Linux's
 * ephemeral range (32768-60999 by default), where the kernel hands out ports to outgoing
 * connections (browsers, pg, redis clients) between our check and the server's bind.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * (32768 - 20000 - count));
    let ok = true;
    for (let port = base; port < base + count && ok; port++) ok = (await tcpFree(port)) && (await udpFree(port));
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
