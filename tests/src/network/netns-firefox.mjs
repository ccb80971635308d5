// Runs Firefox inside a network namespace and makes its WebDriver BiDi endpoint reachable from the
// host namespace, where puppeteer connects: usage `node netns-firefox.mjs <netns> <firefox> [args]`.
// Firefox listens on 127.0.0.1 of its namespace. A listening socket is opened here, in the host
// namespace, and handed (as fd 3) to a small forwarder started inside the namespace: the connections
// it accepts come from the host, the ones it opens go to Firefox's port. The "listening on" line
// puppeteer waits for is rewritten to the host port. Control traffic thus never crosses the
// impaired link. Exits with Firefox; puppeteer kills the whole process group on close.
import { spawn } from 'node:child_process';
import net from 'node:net';

const [netns, firefox, ...args] = process.argv.slice(2);
if (!netns || !firefox) {
  process.stderr.write('usage: netns-firefox.mjs <netns> <firefox> [args]\n');
  process.exit(2);
}

const FORWARDER = `
const net = require('node:net');
const port = Number(process.argv[1]);
net.createServer((client) => {
  const upstream = net.connect(port, '127.0.0.1');
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.pipe(upstream).pipe(client);
}).listen({ fd: 3 });
`;

const child = spawn('ip', ['netns', 'exec', netns, firefox, ...args], { stdio: ['inherit', 'inherit', 'pipe'] });
let forwarder;
let pending = '';
let forwarding = false;

/**
 * A listening socket on the host's loopback at the same port number as Firefox's: Firefox's remote
 * agent answers 400 to a WebSocket handshake whose Host header names another port.
 */
async function hostListener(port) {
  const server = net.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1' }, resolve);
  });
  return server;
}

child.stderr.on('data', async (chunk) => {
  if (forwarding) {
    process.stderr.write(chunk);
    return;
  }
  pending += chunk.toString();
  const match = /WebDriver BiDi listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(pending);
  if (!match) return;
  forwarding = true;
  let server;
  try {
    server = await hostListener(Number(match[1]));
  } catch (error) {
    process.stderr.write(`netns-firefox: port ${match[1]} is taken on the host's loopback (${error.message})\n`);
    child.kill();
    return;
  }
  const hostPort = server.address().port;
  forwarder = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', FORWARDER, match[1]], { stdio: ['ignore', 'inherit', 'inherit', server._handle.fd] });
  // The forwarder holds its own copy of the listening socket; this process accepts nothing.
  server.close();
  process.stderr.write(pending.replace(`127.0.0.1:${match[1]}`, `127.0.0.1:${hostPort}`));
});

child.on('exit', (code, signal) => {
  forwarder?.kill();
  process.exit(code ?? (signal ? 1 : 0));
});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
