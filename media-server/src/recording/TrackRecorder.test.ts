// A track recorder against a real mediasoup worker and real FFmpeg processes: an Opus producer fed by
// an FFmpeg RTP sender, recorded, then stopped while live and while paused. The file must keep its
// media to the end and be finished (a duration in its header), and the stop must be prompt.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { TrackRecorder } from './TrackRecorder.js';

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
    await expect.poll(async () => (await producer.getStats()).some((s) => s.packetCount > 0), { timeout: 10_000 }).toBe(true);
    return producer;
  }

  function recorderFor(producer: types.Producer, recordingStartedAt: number): TrackRecorder {
    return new TrackRecorder({
      router,
      producer,
      identity: 'patient',
      dir,
      recordingStartedAt,
      ffmpegPath: 'ffmpeg',
      logger: createLogger('silent'),
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
});
