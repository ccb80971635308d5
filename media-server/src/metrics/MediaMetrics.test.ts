// The media server's /metrics against a real worker and real signaling clients (bots carrying
// synthetic VP8 over SRTP): who may scrape, and that every family moves with what happens.
import os from 'node:os';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaServer } from '../MediaServer.js';
import { startTestMediaServer } from '../testing/media-server.js';
import { carryVp8, connectBot, startBotRouter, type BotTarget } from '../testing/bots.js';
import { waitFor } from '@telemed/test-kit';

const SECRET = 'metrics-test-room-secret-0123456789';
const SERVICE_SECRET = 'metrics-test-service-secret-0123456789';
const METRICS_TOKEN = 'metrics-test-token-0123456789';
const RESUME_GRACE_MS = 500;

let server: MediaServer;
let botWorker: types.Worker;
let botRouter: types.Router;
const target = (room: string): BotTarget => ({ port: server.port, secret: SECRET, room });
const base = (): string => `http://127.0.0.1:${server.port}`;

const scrape = async (): Promise<Map<string, number>> => {
  const res = await fetch(`${base()}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  const series = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
};
const value = async (series: string): Promise<number> => (await scrape()).get(series) ?? Number.NaN;
const workerPid = async (): Promise<number> => {
  const res = await fetch(`${base()}/workers`, { headers: { authorization: `Bearer ${SERVICE_SECRET}` } });
  return ((await res.json()) as { workers: { pid: number }[] }).workers[0]!.pid;
};

beforeAll(async () => {
  server = await startTestMediaServer({
    roomTokenSecret: SECRET,
    serviceSecret: SERVICE_SECRET,
    metricsToken: METRICS_TOKEN,
    statsIntervalMs: 200,
    resumeGraceMs: RESUME_GRACE_MS,
    emptyRoomGraceMs: 0,
    logLevel: 'silent',
    // Media events to a port nobody listens on, with room for 5: the queue fills and drops.
    apiInternalUrl: 'http://127.0.0.1:9',
    webhookSecret: 'metrics-test-webhook-secret',
    eventQueueMax: 5,
  });
  ({ worker: botWorker, router: botRouter } = await startBotRouter());
});

afterAll(async () => {
  botWorker?.close();
  await server?.stop();
});

describe('media server metrics', () => {
  it('public /health has no process ids; /metrics takes the METRICS_TOKEN bearer only', async () => {
    const pid = await workerPid();
    const health = await fetch(`${base()}/health`);
    expect(health.status).toBe(200);
    const body = await health.text();
    expect(JSON.parse(body)).toEqual({ status: 'ok', draining: false, workers: 1, rooms: 0, participants: 0 });
    expect(body).not.toContain(String(pid));
    expect((await fetch(`${base()}/workers`)).status).toBe(401);
    expect((await fetch(`${base()}/metrics`)).status).toBe(401);
    expect((await fetch(`${base()}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(401);
    expect((await fetch(`${base()}/metrics`, { headers: { authorization: `Bearer ${SERVICE_SECRET}` } })).status).toBe(401);
    const series = await scrape();
    expect(series.get('telemed_media_worker_up{worker="0"}')).toBe(1);
    expect(series.get('telemed_media_worker_deaths_total{worker="0"}')).toBe(0);
    expect(series.get('telemed_media_events_dropped_total')).toBe(0);
  });

  it('counts rooms, participants, tracks, RTP in and out, loss and score while media flows', async () => {
    let during: Map<string, number> | undefined;
    await carryVp8(target('flowing'), botRouter, 1, async () => {
      // Samples every 200 ms: wait until the counters have seen packets both ways.
      await expect
        .poll(
          async () => {
            const s = await scrape();
            return Math.min(
              s.get('telemed_media_rtp_packets_total{direction="in",kind="video"}') ?? 0,
              s.get('telemed_media_rtp_packets_total{direction="out",kind="video"}') ?? 0,
            );
          },
          { timeout: 10_000 },
        )
        .toBeGreaterThan(0);
      during = await scrape();
    });
    const s = during!;
    expect(s.get('telemed_media_rooms')).toBe(1);
    expect(s.get('telemed_media_participants')).toBe(2);
    expect(s.get('telemed_media_producers{kind="video"}')).toBe(1);
    expect(s.get('telemed_media_consumers{kind="video"}')).toBe(1);
    expect(s.get('telemed_media_signaling_sessions')).toBe(2);
    expect(s.get('telemed_media_rtp_bytes_total{direction="in",kind="video"}')).toBeGreaterThan(600);
    expect(s.get('telemed_media_rtp_bytes_total{direction="out",kind="video"}')).toBeGreaterThan(600);
    expect(s.get('telemed_media_rtp_packets_lost_total{direction="in",kind="video"}')).toBe(0);
    expect(s.get('telemed_media_track_score_count{direction="in"}')).toBeGreaterThan(0);
    expect(s.get('telemed_media_track_loss_ratio_count{direction="out"}')).toBeGreaterThan(0);
    expect(s.get('telemed_media_track_loss_ratio_bucket{le="0",direction="in"}')).toBe(s.get('telemed_media_track_loss_ratio_count{direction="in"}'));
    expect(s.get('telemed_media_signaling_requests_total{method="join",outcome="ok"}')).toBe(2);
    expect(s.get('telemed_media_signaling_requests_total{method="produce",outcome="ok"}')).toBe(1);
    expect(s.get('telemed_media_signaling_request_duration_seconds_count{method="join"}')).toBe(2);
    expect(s.get('telemed_media_worker_cpu_seconds_total{worker="0"}')).toBeGreaterThan(0);
    // The API is unreachable: events wait in the queue, which holds 5 and drops the oldest beyond.
    expect(s.get('telemed_media_event_queue_length')).toBe(5);
    expect(s.get('telemed_media_events_dropped_total')).toBeGreaterThan(0);
    await waitFor('every room gone', async () => (await value('telemed_media_rooms')) === 0);
  });

  it('counts failed requests by error code', async () => {
    const client = await connectBot('no-grant', {}, target('refusals'));
    expect(await client.failure('createPlainTransport', { direction: 'recv' })).toMatchObject({ code: 'FORBIDDEN' });
    client.socket.send(JSON.stringify({ type: 'request', id: 99, method: 'noSuchMethod', data: {} }));
    await waitFor(
      'the unknown method counted',
      async () => (await value('telemed_media_signaling_requests_total{method="unknown",outcome="UNKNOWN_METHOD"}')) === 1,
    );
    expect(await value('telemed_media_signaling_requests_total{method="createPlainTransport",outcome="FORBIDDEN"}')).toBe(1);
    client.close();
  });

  it('counts sessions resumed within the grace period and sessions that expired', async () => {
    const grants = { loadTest: true };
    const first = await connectBot('resumer', grants, target('resume'));
    await first.request('join', { rtpCapabilities: { codecs: [], headerExtensions: [] } as never });
    const { participantId, resumeKey } = first.welcome;
    first.socket.terminate();
    const resumed = await connectBot('resumer', grants, target('resume'), { participantId, key: resumeKey });
    expect(resumed.welcome.resumed).toBe(true);
    await waitFor('the resumed session counted', async () => (await value('telemed_media_sessions_resumed_total')) === 1);

    // Earlier tests' bots closed their sockets without leaving: their sessions expired too.
    await waitFor('the earlier sessions expired', async () => (await value('telemed_media_signaling_sessions')) === 1, { timeoutMs: RESUME_GRACE_MS + 10_000 });
    const expiredBefore = await value('telemed_media_sessions_expired_total');
    const leaver = await connectBot('leaver', grants, target('resume'));
    await leaver.request('join', { rtpCapabilities: { codecs: [], headerExtensions: [] } as never });
    leaver.socket.terminate();
    await waitFor('the session of the leaver expired', async () => (await value('telemed_media_sessions_expired_total')) === expiredBefore + 1, {
      timeoutMs: RESUME_GRACE_MS + 10_000,
    });
    expect(await value('telemed_media_sessions_resumed_total')).toBe(1);
    resumed.close();
  });

  it('without METRICS_TOKEN serves loopback clients only', async () => {
    const nonLoopback = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a?.family === 'IPv4' && !a.internal)?.address;
    expect(nonLoopback, 'this test needs a non-loopback IPv4 address on the machine').toBeDefined();
    const open = await startTestMediaServer({ host: '0.0.0.0', roomTokenSecret: SECRET });
    try {
      const local = await fetch(`http://127.0.0.1:${open.port}/metrics`);
      expect(local.status).toBe(200);
      expect(await local.text()).toContain('telemed_media_worker_up{worker="0"} 1');
      const remote = await fetch(`http://${nonLoopback}:${open.port}/metrics`, { headers: { 'x-forwarded-for': '127.0.0.1' } });
      expect(remote.status).toBe(403);
      expect(await remote.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    } finally {
      await open.stop();
    }
  });

  it('counts a worker that died and shows its replacement up', async () => {
    const pid = await workerPid();
    process.kill(pid, 'SIGKILL');
    await waitFor('the worker death counted', async () => (await value('telemed_media_worker_deaths_total{worker="0"}')) === 1);
    await waitFor('a new worker up', async () => (await workerPid()) !== pid && (await value('telemed_media_worker_up{worker="0"}')) === 1);
  });
});
