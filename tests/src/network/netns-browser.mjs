#!/usr/bin/env node
// Runs a browser inside a network namespace for a driver outside it:
//   node netns-browser.mjs <netns> <browser binary> [browser args...]
// The browser's remote-control WebSocket (Firefox's WebDriver BiDi) listens on the namespace's own
// loopback, which the driver cannot reach. So when the browser prints its endpoint
// ("WebDriver BiDi listening on ws://127.0.0.1:P"), this wrapper starts a forwarder inside the
// namespace (a Unix socket, which both sides see, to 127.0.0.1:P) and a listener on the outer
// loopback, and prints the endpoint with the outer port. Everything else passes through unchanged;
// the wrapper exits with the browser. Chromium under Playwright talks over pipes and needs none of
// this (`ip netns exec` alone).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const [ns, binary, ...args] = process.argv.slice(2);
if (!ns || !binary) {
  process.stderr.write('usage: netns-browser.mjs <netns> <binary> [args...]\n');
  process.exit(2);
}

const FORWARDER = `
const net = require('node:net');
const [sock, port] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(Number(port), '127.0.0.1');
  c.pipe(u).pipe(c);
  u.on('error', () => c.destroy());
  c.on('error', () => u.destroy());
}).listen(sock, () => process.stdout.write('ready\\n'));
`;

const helpers = [];
const browser = spawn('ip', ['netns', 'exec', ns, binary, ...args], { stdio: ['inherit', 'inherit', 'pipe'] });
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => browser.kill(signal));
browser.on('exit', (code, signal) => {
  for (const helper of helpers) helper.kill('SIGKILL');
  process.exit(code ?? (signal ? 1 : 0));
});

/** An outer 127.0.0.1 port that reaches 127.0.0.1:`port` inside the namespace. */
async function bridge(port) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tmd-bridge-'));
  const sock = path.join(dir, 'ws.sock');
  const forwarder = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', FORWARDER, sock, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  helpers.push(forwarder);
  await new Promise((resolve, reject) => {
    forwarder.stdout.once('data', resolve);
    forwarder.once('exit', () => reject(new Error('the namespace forwarder exited')));
  });
  // The browser refuses a WebSocket whose Host is not its own address and port (a guard against
  // DNS rebinding): the handshake's Host names the inner port.
  const server = net.createServer((c) => {
    const u = net.connect(sock);
    c.once('data', (first) => {
      u.write(first.toString('latin1').replace(/\r\nhost: [^\r]*\r\n/i, `\r\nHost: 127.0.0.1:${port}\r\n`), 'latin1');
      c.pipe(u);
    });
    u.pipe(c);
    u.on('error', () => c.destroy());
    c.on('error', () => u.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return server.address().port;
}

const ENDPOINT = /^(.*listening on ws:\/\/)(?:127\.0\.0\.1|localhost):(\d+)(.*)$/;
let pending = '';
let queue = Promise.resolve();
browser.stderr.on('data', (chunk) => {
  pending += chunk.toString();
  const lines = pending.split('\n');
  pending = lines.pop();
  for (const line of lines) {
    queue = queue
      .then(async () => {
        const match = ENDPOINT.exec(line);
        if (!match) return void process.stderr.write(`${line}\n`);
        const outer = await bridge(Number(match[2]));
        process.stderr.write(`${match[1]}127.0.0.1:${outer}${match[3]}\n`);
      })
      .catch((error) => process.stderr.write(`netns-browser: ${error.message}\n`));
  }
});
