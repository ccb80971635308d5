#!/usr/bin/env node
// Quick local load figure for POST /api/conversations/:id/messages (encrypt, insert, receipts
// pointer, realtime event, audit row) on PGlite and on the local PostgreSQL 15.
// Usage: npm run build, then `node api/bench/send-message.mjs [seconds] [concurrency]`.
// Prints figures; asserts nothing.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { App } from '../dist/index.js';

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 16);
const secrets = {
  roomTokenSecret: randomBytes(24).toString('base64url'),
  accessTokenSecret: randomBytes(32).toString('base64url'),
  mediaWebhookSecret: randomBytes(24).toString('base64url'),
  encryptionKey: `k1:${randomBytes(32).toString('base64')}`,
};
const psql = (sql) => execFileSync('runuser', ['-u', 'postgres', '--', 'psql', '-qAtc', sql], { encoding: 'utf8' });

async function run(label, extra) {
  const app = new App({ ...secrets, port: 0, mode: 'test', logLevel: 'silent', seedDemo: true, messageRateLimit: 1e9, databaseDir: 'memory://', ...extra });
  await app.start();
  const base = `http://127.0.0.1:${app.port}`;
  const login = async (email) =>
    await (
      await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'telemed-demo' }),
      })
    ).json();
  const alice = await login('alice@patients.demo');
  const grey = await login('grey@doctors.demo');
  const conversations = await (await fetch(`${base}/api/conversations`, { headers: { authorization: `Bearer ${alice.accessToken}` } })).json();
  const conversation = conversations.items.find((c) => c.members.some((m) => m.userId === grey.user.id));
  const latencies = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      const res = await fetch(`${base}/api/conversations/${conversation.id}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ clientId: randomUUID(), body: 'Blood pressure 120/80, pulse 64, feeling fine today.' }),
      });
      await res.arrayBuffer();
      if (res.status === 201) latencies.push(performance.now() - started);
      else errors++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]?.toFixed(1);
  console.log(
    `${label.padEnd(10)} ${(latencies.length / elapsed).toFixed(0).padStart(5)} msg/s  p50 ${pct(50)} ms  p99 ${pct(99)} ms  (${latencies.length} sent, ${errors} errors, ${concurrency} concurrent, ${elapsed.toFixed(1)} s)`,
  );
  await app.stop();
}

console.log(`send-message load, ${seconds} s per database, ${concurrency} concurrent senders (one process, this machine)`);
await run('PGlite', {});
const role = `telemed_bench_${randomBytes(3).toString('hex')}`;
const password = randomBytes(12).toString('hex');
psql(`create role ${role} login password '${password}'`);
psql(`create database ${role} owner ${role}`);
try {
  const port = execFileSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.startsWith('15'))
    ?.trim()
    .split(/\s+/)[2];
  await run('PostgreSQL', { databaseUrl: `postgres://${role}:${password}@127.0.0.1:${port}/${role}` });
} finally {
  psql(`drop database if exists ${role} with (force)`);
  psql(`drop role if exists ${role}`);
}
