// A track recorder against a real mediasoup worker and real FFmpeg processes: an Opus producer fed by
// an FFmpeg RTP sender, recorded, then stopped while live and while paused. The file must keep its
// media to the end and be finished (a duration in its header), and the stop must be prompt.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { waitFor } from '@telemed/test-kit';
import { createLogger } from '../logger.js';
import { TrackRecorder } from './TrackRecorder.js';
import * as udpPorts from './udp-ports.js';

type UdpPorts = typeof udpPorts;

// The ports handed to recorders, seen (and taken from them) by the test.
vi.mock('./udp-ports.js', async (importOriginal) => {
  const actual = await importOriginal<UdpPorts>();
  return { ...actual, freeUdpPortPair: vi.fn(actual.freeUdpPortPair) };
});

const SSRC = 0x1234;

describe('TrackRecorder', () => {
  let worker: types.Worker;
  let router: types.Router;
  let dir: string;
  const senders: ChildProcess[] = [];

  beforeAll(async () => {
    worker = await mediasoup.createWorker({ logLevel: 'warn' });
    router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-track-recorder-'));
  });

  afterAll(() => {
    for (const sender of senders) sender.kill('SIGKILL');
    worker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** An Opus producer whose packets come from FFmpeg (a 440 Hz tone in real time). */
  async function audioProducer(): Promise<types.Producer> {
    // FFmpeg sends RTCP from a port of its own: with RTCP muxed, comedia would take whichever came first.
    const input = await router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: false, comedia: true });
    const producer = await input.produce({
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 100 }], encodings: [{ ssrc: SSRC }] },
    });
    const [port, rtcpPort] = [input.tuple.localPort, input.rtcpTuple!.localPort];
    const sender = spawn(
      'ffmpeg',
      [
        ...['-v', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'sine=f=440:r=48000'],
        ...['-c:a', 'libopus', '-b:a', '32k', '-payload_type', '100', '-ssrc', String(SSRC)],
        ...['-f', 'rtp', `rtp://127.0.0.1:${port}?rtcpport=${rtcpPort}`],
      ],
      { stdio: 'ignore' },
    );
    senders.push(sender);
    await waitFor('packets at the producer', async () => (await producer.getStats()).some((s) => s.packetCount > 0));
    return producer;
  }

  function recorderFor(producer: types.Producer, recordingStartedAt: number, restartDelayMs?: number): TrackRecorder {
    return new TrackRecorder({
      router,
      producer,
      identity: 'patient',
      dir,
      recordingStartedAt,
      ffmpegPath: 'ffmpeg',
      logger: createLogger('silent'),
      ...(restartDelayMs === undefined ? {} : { restartDelayMs }),
    });
  }

  /** The file's duration from its header (undefined when FFmpeg did not finish it). */
  function headerDuration(file: string): number | undefined {
    const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim();
    return out === 'N/A' || out === '' ? undefined : Number(out);
  }

  async function stopTimed(recorder: TrackRecorder): Promise<number> {
    const started = Date.now();
    await recorder.close();
    return Date.now() - started;
  }

  it('stopped while receiving: the file is finished promptly and keeps the media up to the stop', async () => {
    const recorder = recorderFor(await audioProducer(), Date.now());
    await recorder.start();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const stopMs = await stopTimed(recorder);
    const [segment] = recorder.segments;
    const spanS = (segment!.endMs! - segment!.offsetMs) / 1000;
    const duration = headerDuration(segment!.file);
    console.log(`[recorder] live stop: ${stopMs} ms; file ${duration ?? 'unfinished'} s for ${spanS.toFixed(2)} s sent`);
    // Before the BYE, SIGINT went unheard on a closed transport and SIGKILL came 10 s later, with
    // the last cluster (up to 1 s) unwritten.
    expect(stopMs).toBeLessThan(3000);
    expect(duration).toBeDefined();
    expect(duration!).toBeGreaterThan(spanS - 0.25);
  }, 30_000);

  it('stopped while paused: the file is finished promptly and keeps what came before the pause', async () => {
    const startedAt = Date.now();
    const recorder = recorderFor(await audioProducer(), startedAt);
    await recorder.start();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await recorder.pause();
    // From the first packet the process got to the pause.
    const recordedS = (Date.now() - startedAt - recorder.segments[0]!.offsetMs) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const stopMs = await stopTimed(recorder);
    const duration = headerDuration(recorder.segments[0]!.file);
    console.log(`[recorder] paused stop: ${stopMs} ms; file ${duration ?? 'unfinished'} s, ${recordedS.toFixed(2)} s sent before the pause`);
    expect(stopMs).toBeLessThan(3000);
    expect(duration).toBeDefined();
    expect(duration!).toBeGreaterThan(recordedS - 0.25);
  }, 30_000);

  it('resumed while a restarted process is starting: the consumer waits until the process listens and its segment is timed', async () => {
    const consumers: types.Consumer[] = [];
    const onTransport = (transport: types.Transport): void => void transport.observer.on('newconsumer', (c) => consumers.push(c));
    router.observer.on('newtransport', onTransport);
    const startedAt = Date.now();
    const recorder = recorderFor(await audioProducer(), startedAt, 100);
    const listenedAt: number[] = [];
    recorder.on('gap', () => listenedAt.push(Date.now()));
    try {
      await recorder.start();
      await waitFor('the first segment', () => recorder.segments.length === 1);
      const consumer = consumers.at(-1)!;
      const resumedAt: number[] = [];
      consumer.observer.on('resume', () => resumedAt.push(Date.now()));
      await new Promise((resolve) => setTimeout(resolve, 1000));

      // Killed; the moment its successor exists (before it listens), the recording is resumed, as a
      // consent or a participant's rejoin re-applies the recording's state.
      const pid = recorder.pid!;
      process.kill(pid, 'SIGKILL');
      await waitFor('the restarted process', () => (recorder.pid !== undefined && recorder.pid !== pid) || undefined, { intervalMs: 2 });
      const resumeCalledAt = Date.now();
      await recorder.resume();
      await waitFor('the second segment timed', () => (recorder.segments.length === 2 && listenedAt.length === 1) || undefined);
      await waitFor('the consumer resumed', () => resumedAt.length > 0 || undefined);

      console.log(
        `[recorder] resume() called ${listenedAt[0]! - resumeCalledAt} ms before the new process listened; the consumer resumed ${resumedAt[0]! - listenedAt[0]!} ms after it`,
      );
      expect(listenedAt[0]!).toBeGreaterThan(resumeCalledAt);
      expect(resumedAt.every((at) => at >= listenedAt[0]!)).toBe(true);
      // Timed from the first packet after the resume, not from one sent before the process listened.
      expect(recorder.segments[1]!.offsetMs).toBeGreaterThanOrEqual(listenedAt[0]! - startedAt - 5);
    } finally {
      router.observer.off('newtransport', onTransport);
      await recorder.close();
    }
  }, 60_000);

  it('ports another process takes (before the first process binds them, or before a restart): the track goes on recording on new ports', async () => {
    const { freeUdpPortPair } = await vi.importActual<UdpPorts>('./udp-ports.js');
    const handed: Array<{ rtp: number; rtcp: number }> = [];
    const squatters: dgram.Socket[] = [];
    const squat = (port: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const socket = dgram.createSocket('udp4');
        socket.once('error', reject);
        socket.bind(port, '127.0.0.1', () => resolve());
        squatters.push(socket);
      });
    let squatNext = true;
    vi.mocked(udpPorts.freeUdpPortPair).mockImplementation(async () => {
      const pair = await freeUdpPortPair();
      handed.push(pair);
      // As a browser's ICE socket did in CI: the port is gone before the recorder binds it.
      if (squatNext) await squat(pair.rtp);
      squatNext = false;
      return pair;
    });
    try {
      const recorder = recorderFor(await audioProducer(), Date.now(), 100);
      const gaps: Array<{ fromMs: number; toMs: number }> = [];
      recorder.on('gap', (gap) => gaps.push(gap));
      await recorder.start();
      await waitFor('the first segment', () => recorder.segments.length === 1);
      expect(handed).toHaveLength(2);
      expect(gaps).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, 1500));

      // Connected now; the process dies and its port is taken before the restart.
      const pid = recorder.pid!;
      process.kill(pid, 'SIGKILL');
      await waitFor('the killed recorder gone', () => recorder.pid !== pid, { intervalMs: 5 });
      await squat(handed[1]!.rtp);
      await waitFor('the second segment', () => recorder.segments.length === 2);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await recorder.close();

      console.log(`[recorder] taken ports: ${handed.length} pairs, gaps ${JSON.stringify(gaps)}`);
      expect(handed).toHaveLength(3);
      expect(gaps).toHaveLength(2);
      for (const gap of gaps) expect(gap.toMs).toBeGreaterThan(gap.fromMs);
      const last = recorder.segments[1]!;
      expect(headerDuration(last.file)!).toBeGreaterThan((last.endMs! - last.offsetMs) / 1000 - 0.25);
      expect(fs.statSync(recorder.segments[0]!.file).size).toBeGreaterThan(0);
    } finally {
      vi.mocked(udpPorts.freeUdpPortPair).mockImplementation(freeUdpPortPair);
      for (const socket of squatters) socket.close();
    }
  }, 60_000);
});
