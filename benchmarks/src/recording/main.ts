// bench:recording — what recording a 1:1 call costs, ramped to the load at which it breaks. Per step,
// N concurrent 1:1 calls of bots (each sending real VP8 at 30 frames/s and Opus every 20 ms, and
// receiving the other's tracks) run through the built media server twice: once without recording
// (the baseline) and once recorded (four FFmpeg recorders per call). Measured: CPU of each recorder
// and of the mediasoup worker(s), disk written, the bots' loss; after the stop, the finish job's
// time and CPU (recorders closed, segments muxed, handed over); then the muxed files' video packet
// counts against the frames the bots sent while recording, and the kernel's drops at the recorders'
// sockets. The ramp stops one step after the first whose recordings lose frames (or at heavy loss).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import jwt from 'jsonwebtoken';
import { signBodyToken } from '@telemed/server-kit';
import { RECORDING_COMMAND_AUDIENCE, RECORDING_COMMAND_ISSUER, type RecordingManifest } from '@telemed/sdk/protocol';
import { parseArgs, withFreePorts } from '../common/args.js';
import { resolveWorkerBin } from '../common/machine.js';
import { childPids, cpuSeconds, CpuMeter, udpReceiveBufferErrors, udpSocketDrops } from '../common/proc.js';
import { log, startRun, table, writeResults } from '../common/results.js';
import { mean, round } from '../common/stats.js';
import { lineChart } from '../common/svg-chart.js';
import { Bot, BotSide } from '../sfu/bots.js';
import { DEFAULT_PROFILE } from '../sfu/rtp.js';
import { Pacer, settledCounts } from '../sfu/scenario.js';
import { PlatformTarget } from '../sfu/targets.js';
import { CLIP_FPS, ClipOpusStream, ClipVp8Stream, loadClips } from './clip.js';
import { waitFor } from '@telemed/test-kit';

const args = parseArgs();
const run = startRun('recording');
const steps = (args.get('calls') ?? (args.quick ? '1,2,4' : '1,2,4,6,8,12,16,20,24,32')).split(',').map(Number);
const measureMs = args.number('seconds', args.quick ? 8 : 20) * 1000;
const numWorkers = args.number('workers', 1);
/**
 * Between two calls' recording starts, ms: in a clinic each doctor starts a recording on their own,
 * not 4 × N FFmpeg processes in the same instant. 0 starts them all at once (the start-up wave that
 * starved the 12-call step on 2 cores, 4 Dec).
 */
const staggerMs = args.number('stagger-ms', 500);
/** A step breaks when its recordings miss more than this share of the frames sent while recording. */
const LOSS_LIMIT = 0.01;
/** The ramp stops after a step past the first with loss, or at once above this share. */
const STOP_LOSS = 0.1;
const secret = randomBytes(32).toString('base64url');
const recordingDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-bench-recording-'));
const clips = loadClips();
log(
  `bench:recording${args.quick ? ' --quick' : ''}: 1:1 calls ${steps.join(', ')}, ${measureMs / 1000} s each, baseline then recorded; ${numWorkers} mediasoup worker(s); clips VP8 ${Math.round(clips.videoBitrate / 1000)} kbit/s, Opus ${Math.round(clips.audioBitrate / 1000)} kbit/s`,
);

// The API's side of the hand-over: accepts media events and stores uploaded recordings.
interface Upload {
  at: number;
  file: string;
  manifest: RecordingManifest | null;
}
const uploads = new Map<string, Upload>();
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const match = /^\/internal\/recordings\/([^/]+)\/file$/.exec(req.url ?? '');
    if (match && req.method === 'POST') {
      const claims = jwt.decode((req.headers.authorization ?? '').slice(7)) as { manifest: RecordingManifest | null } | null;
      const file = path.join(recordingDir, `upload-${match[1]!}.mkv`);
      fs.writeFileSync(file, Buffer.concat(chunks));
      uploads.set(decodeURIComponent(match[1]!), { at: performance.now(), file, manifest: claims?.manifest ?? null });
      return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    }
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const apiUrl = `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}`;

const target = await withFreePorts(numWorkers + 1, (basePort) =>
  PlatformTarget.start({
    workerBin: resolveWorkerBin(),
    numWorkers,
    basePort,
    consumersPerWorker: 100_000,
    env: {
      ENABLE_CALL_RECORDING: 'true',
      API_INTERNAL_URL: apiUrl,
      MEDIA_WEBHOOK_SECRET: secret,
      MEDIA_RECORDING_DIR: path.join(recordingDir, 'media'),
      MEDIA_EMPTY_ROOM_GRACE_MS: '1000',
    },
  }),
);
const mediaPid = target.server.process.pid!;
const side = await BotSide.create();
const nonce = randomBytes(3).toString('hex');

async function command(roomId: string, method: 'PUT' | 'DELETE', body: string): Promise<void> {
  const token = signBodyToken({
    secret,
    issuer: RECORDING_COMMAND_ISSUER,
    audience: RECORDING_COMMAND_AUDIENCE,
    body,
    expiresInSeconds: 60,
    claims: { roomId },
  });
  const res = await fetch(`${target.server.httpUrl}/rooms/${roomId}/recording`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  });
  if (!res.ok) throw new Error(`${method} recording of ${roomId}: ${res.status} ${await res.text()}`);
}

/** Bytes in the files under `dir`. */
function bytesUnder(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((n, e) => n + (fs.statSync(path.join(e.parentPath, e.name), { throwIfNoEntry: false })?.size ?? 0), 0);
}

const cmdline = (pid: number): string => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
};

interface StepResult {
  calls: number;
  mode: 'baseline' | 'recorded';
  /** mediasoup worker CPU, cores (all workers). */
  workerCpu: number;
  mediaNodeCpu: number;
  /** Packets the receiving bots did not get of what the other side sent (the call's own loss, recorded or not). */
  botLossRatio: number;
  /** Kernel drops at the SFU workers' and the bots' sockets, and at all UDP sockets (RcvbufErrors): loss from a starved machine. */
  sfuAndBotSocketDrops: number;
  udpRcvbufErrors: number;
  recorders?: number;
  recorderCpuMean?: number;
  recorderCpuMax?: number;
  recordersCpu?: number;
  diskBytesPerSecond?: number;
  recorderSocketDrops?: number;
  finishSecondsMean?: number;
  finishSecondsMax?: number;
  muxCpuSeconds?: number;
  recordedMinutes?: number;
  /** Frames a 30 frames/s sender sent over the recorded streams' spans. */
  videoFramesSent?: number;
  /** The latest first frame of a recorded video stream, s after the start command. */
  firstFrameSecondsMax?: number;
  videoFramesInFiles?: number;
  fileFrameLossRatio?: number;
  decodeErrors?: number;
  transcoded?: boolean;
}

async function runStep(calls: number, recorded: boolean): Promise<StepResult> {
  const rooms: { id: string; bots: [Bot, Bot]; recordingId: string }[] = [];
  const pacerBots: Bot[] = [];
  const mode = recorded ? 'recorded' : 'baseline';
  try {
    for (let r = 0; r < calls; r++) {
      const id = `rec-${nonce}-${mode}-${calls}-${r}`;
      const pair: Bot[] = [];
      for (const who of ['doctor', 'patient']) {
        const bot = new Bot(side, `${who}-${r}`, await target.connect(id, `${who}-${r}`));
        const start = Math.floor(Math.random() * clips.video.length);
        await bot.start({
          subscribe: true,
          profile: DEFAULT_PROFILE,
          sources: (ssrc) => ({ video: new ClipVp8Stream(ssrc.video, clips, start), audio: new ClipOpusStream(ssrc.audio, clips, start) }),
        });
        pair.push(bot);
      }
      rooms.push({ id, bots: pair as [Bot, Bot], recordingId: crypto.randomUUID() });
      pacerBots.push(...pair);
    }
    await waitFor(
      `${calls * 4} consumers`,
      async () => {
        await Promise.all(pacerBots.map((b) => b.settled()));
        return pacerBots.every((b) => b.consumers >= 2) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    const pacer = new Pacer(pacerBots);
    pacer.start();
    try {
      await sleep(2000);
      let recorderPids: number[] = [];
      if (recorded) {
        const startRecording = (room: (typeof rooms)[number]): Promise<unknown> =>
          command(room.id, 'PUT', JSON.stringify({ recordingId: room.recordingId, state: 'recording', identities: room.bots.map((b) => b.identity) }));
        if (staggerMs === 0) await Promise.all(rooms.map(startRecording));
        else
          for (const [i, room] of rooms.entries()) {
            if (i > 0) await sleep(staggerMs);
            await startRecording(room);
          }
        recorderPids = await waitFor(
          `${calls * 4} recorders`,
          () => {
            const pids = childPids(mediaPid, 'ffmpeg');
            return pids.length >= calls * 4 ? pids : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 100 },
        );
        await sleep(1500); // every recorder past its probing, its consumer resumed
      }
      const workers = target.workerPids();
      const before = await Promise.all(pacerBots.map((b) => b.counts()));
      const meter = new CpuMeter([...workers, mediaPid, ...recorderPids]);
      const dropsBefore = udpSocketDrops(recorderPids);
      const sfuDropsBefore = udpSocketDrops([...workers, side.worker.pid]);
      const rcvbufBefore = udpReceiveBufferErrors();
      const diskBefore = bytesUnder(path.join(recordingDir, 'media'));
      meter.start();
      await sleep(measureMs);
      const cpu = meter.stop();
      const diskAfter = bytesUnder(path.join(recordingDir, 'media'));
      const drops = udpSocketDrops(recorderPids).reduce((n, d, i) => n + d - (dropsBefore[i] ?? 0), 0);
      // The call's own loss: counted once nothing is in flight (the pacer stops; recorders then get nothing until the stop).
      pacer.stop();
      const after = await settledCounts(pacerBots);
      const sfuDrops = udpSocketDrops([...workers, side.worker.pid]).reduce((n, d, i) => n + d - (sfuDropsBefore[i] ?? 0), 0);
      const rcvbufErrors = udpReceiveBufferErrors() - rcvbufBefore;
      let expected = 0;
      let received = 0;
      // Each bot receives what the other bot of its call sent.
      pacerBots.forEach((_, i) => {
        const other = i % 2 === 0 ? i + 1 : i - 1;
        expected += after[other]!.sentVideo - before[other]!.sentVideo + after[other]!.sentAudio - before[other]!.sentAudio;
        received += after[i]!.received - before[i]!.received;
      });
      const workerCpu = cpu.slice(0, workers.length).reduce((a, b) => a + b, 0);
      const result: StepResult = {
        calls,
        mode,
        workerCpu: round(workerCpu, 3),
        mediaNodeCpu: round(cpu[workers.length] ?? 0, 3),
        botLossRatio: round(expected > 0 ? Math.max(0, expected - received) / expected : 0, 4),
        sfuAndBotSocketDrops: sfuDrops,
        udpRcvbufErrors: rcvbufErrors,
      };
      if (!recorded) return result;

      const recorderCpu = cpu.slice(workers.length + 1);
      Object.assign(result, {
        recorders: recorderPids.length,
        recorderCpuMean: round(mean(recorderCpu), 4),
        recorderCpuMax: round(Math.max(...recorderCpu), 4),
        recordersCpu: round(
          recorderCpu.reduce((a, b) => a + b, 0),
          3,
        ),
        diskBytesPerSecond: Math.round((diskAfter - diskBefore) / (measureMs / 1000)),
        recorderSocketDrops: drops,
      });
      // Stop every recording; watch the mux processes' CPU (polled) until every file is handed over.
      const stoppedAt = performance.now();
      await Promise.all(rooms.map((room) => command(room.id, 'DELETE', '')));
      const muxCpu = new Map<number, number>();
      await waitFor(
        `${calls} recordings handed over`,
        () => {
          for (const pid of childPids(mediaPid, 'ffmpeg'))
            if (cmdline(pid).includes('call.mkv')) muxCpu.set(pid, Math.max(muxCpu.get(pid) ?? 0, cpuSeconds(pid)));
          return rooms.every((room) => uploads.has(room.recordingId)) ? true : undefined;
        },
        { timeoutMs: 300_000, intervalMs: 20 },
      );
      const finish = rooms.map((room) => (uploads.get(room.recordingId)!.at - stoppedAt) / 1000);
      // Video frames in the files (stream copies: one packet per frame) against the frames a 30 frames/s
      // sender sent over each stream's span; and how long after the start command each stream's first frame is.
      let inFiles = 0;
      let expectedFrames = 0;
      let recordedMs = 0;
      let transcoded = false;
      const firstFrames: number[] = [];
      let nothingRecorded = 0;
      for (const room of rooms) {
        const upload = uploads.get(room.recordingId)!;
        if (upload.manifest === null) {
          // The media server's empty hand-over: no segment of the call was readable. Every frame of
          // its two video streams over the measured window counts as lost (a lower bound of its span).
          nothingRecorded += 1;
          expectedFrames += 2 * Math.round((measureMs / 1000) * CLIP_FPS);
          log(`    ${room.id}: nothing usable recorded (the media server handed over no file)`);
          continue;
        }
        recordedMs += upload.manifest.durationMs;
        transcoded ||= upload.manifest.transcoded;
        const packets = execFileSync(
          'ffprobe',
          ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=stream_index,pts_time', '-of', 'csv=p=0', upload.file],
          { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
        );
        const streams = new Map<string, number[]>();
        for (const line of packets.split('\n').filter(Boolean)) {
          const [stream = '', pts = ''] = line.split(',');
          streams.set(stream, [...(streams.get(stream) ?? []), Number(pts)]);
        }
        for (const [stream, times] of streams) {
          const expected = Math.round((Math.max(...times) - Math.min(...times)) * CLIP_FPS) + 1;
          inFiles += times.length;
          expectedFrames += expected;
          firstFrames.push(Math.min(...times));
          if (times.length < expected) {
            // Where the frames are missing: one long hole (a recorder that stopped receiving, a
            // timestamp jump) reads differently from many small ones (packets lost).
            const sorted = [...times].sort((a, b) => a - b);
            const holes = sorted
              .slice(1)
              .map((t, i) => ({ at: sorted[i]!, s: t - sorted[i]! }))
              .filter((h) => h.s > 2 / CLIP_FPS);
            const largest = holes.reduce((a, b) => (b.s > a.s ? b : a), { at: 0, s: 0 });
            log(
              `    ${room.id} video stream ${stream}: ${times.length}/${expected} frames, ${round(sorted[0]!, 2)}–${round(sorted.at(-1)!, 2)} s, ${holes.length} hole(s), the largest ${round(largest.s, 2)} s at ${round(largest.at, 2)} s; manifest gaps ${JSON.stringify(upload.manifest?.gaps ?? [])}`,
            );
          }
        }
      }
      // One file decoded in full: every frame must decode.
      const first = rooms.map((room) => uploads.get(room.recordingId)!).find((upload) => upload.manifest !== null)?.file;
      const decode = first
        ? execFileSync('ffmpeg', ['-v', 'error', '-i', first, '-map', '0', '-f', 'null', '-'], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          })
        : '';
      Object.assign(result, {
        finishSecondsMean: round(mean(finish), 2),
        finishSecondsMax: round(Math.max(...finish), 2),
        muxCpuSeconds: round(
          [...muxCpu.values()].reduce((a, b) => a + b, 0),
          2,
        ),
        recordedMinutes: round(recordedMs / 60_000, 2),
        videoFramesSent: expectedFrames,
        videoFramesInFiles: inFiles,
        fileFrameLossRatio: round(Math.max(0, expectedFrames - inFiles) / Math.max(1, expectedFrames), 4),
        firstFrameSecondsMax: firstFrames.length > 0 ? round(Math.max(...firstFrames), 2) : null,
        nothingRecorded,
        decodeErrors: decode.split('\n').filter(Boolean).length,
        transcoded,
      });
      return result;
    } finally {
      pacer.stop();
    }
  } finally {
    for (const room of rooms) {
      for (const bot of room.bots) await bot.close().catch(() => undefined);
      const upload = uploads.get(room.recordingId);
      if (upload) fs.rmSync(upload.file, { force: true });
    }
  }
}

const results: StepResult[] = [];
let brokeAt: number | undefined;
let brokeBecause = '';
try {
  for (const calls of steps) {
    let saturated = false;
    for (const recorded of [false, true]) {
      const r = await runStep(calls, recorded).catch((error: unknown) => {
        // A step the machine cannot even set up (recorders not started, consumers not ready) ends the ramp with what was measured.
        log(`  ${calls} call(s) ${recorded ? 'recorded' : 'baseline'}: ${error instanceof Error ? error.message : String(error)}`);
        log(`  the media server's last output:\n${target.server.recentOutput().slice(-4000)}`);
        brokeAt ??= calls;
        brokeBecause ||= `the step could not be set up (${error instanceof Error ? error.message : String(error)})`;
        saturated = true;
        return undefined;
      });
      if (!r) break;
      results.push(r);
      log(
        recorded
          ? `  ${calls} recorded call(s): workers ${r.workerCpu} cores, recorders ${r.recordersCpu} cores (${r.recorders} × ${r.recorderCpuMean} mean, max ${r.recorderCpuMax}), disk ${round((r.diskBytesPerSecond ?? 0) / 1e6, 2)} MB/s, bot loss ${r.botLossRatio} (SFU/bot socket drops ${r.sfuAndBotSocketDrops}), recorder socket drops ${r.recorderSocketDrops}; finish ${r.finishSecondsMean} s mean (mux CPU ${r.muxCpuSeconds} s for ${r.recordedMinutes} min); video frames in files ${r.videoFramesInFiles}/${r.videoFramesSent} (loss ${r.fileFrameLossRatio}), first frame ≤ ${r.firstFrameSecondsMax} s after the start, decode errors ${r.decodeErrors}`
          : `  ${calls} call(s), no recording: workers ${r.workerCpu} cores, media node ${r.mediaNodeCpu} cores, bot loss ${r.botLossRatio} (kernel drops at SFU/bot sockets ${r.sfuAndBotSocketDrops}, all UDP ${r.udpRcvbufErrors})`,
      );
    }
    if (saturated) break;
    const last = results.at(-1)!;
    const baseline = results.at(-2)!;
    if (brokeAt === undefined && ((last.fileFrameLossRatio ?? 0) > LOSS_LIMIT || (last.recorderSocketDrops ?? 0) > 0 || (last.decodeErrors ?? 0) > 0)) {
      brokeAt = calls;
      brokeBecause =
        baseline.botLossRatio > LOSS_LIMIT
          ? `the call itself already lost ${round(baseline.botLossRatio * 100, 1)} % of its packets without recording (kernel drops at the SFU's and bots' sockets: ${baseline.sfuAndBotSocketDrops}): the machine, not the recording, was saturated`
          : `the recording lost frames while the same calls without recording lost ${round(baseline.botLossRatio * 100, 1)} %`;
      log(`  recordings lose frames at ${calls} concurrent calls (${brokeBecause})`);
      log(`  the media server's last output:\n${target.server.recentOutput().slice(-4000)}`);
    }
    // One more step past the first with loss (the costs keep being measured), none past heavy loss.
    if ((last.fileFrameLossRatio ?? 0) > STOP_LOSS || (brokeAt !== undefined && brokeAt < calls)) {
      log('  the ramp stops');
      break;
    }
  }
} finally {
  await target.close();
  side.close();
  receiver.close();
  fs.rmSync(recordingDir, { recursive: true, force: true });
}

// --- report -----------------------------------------------------------------------------------------
const base = new Map(results.filter((r) => r.mode === 'baseline').map((r) => [r.calls, r]));
const rec = results.filter((r) => r.mode === 'recorded');
const perCall = rec.map((r) => ({
  calls: r.calls,
  workerExtra: round((r.workerCpu - (base.get(r.calls)?.workerCpu ?? 0)) / r.calls, 4),
  recorders: round((r.recordersCpu ?? 0) / r.calls, 4),
  diskMBPerMinute: round(((r.diskBytesPerSecond ?? 0) * 60) / 1e6 / r.calls, 2),
  muxCpuPerMinute: round((r.muxCpuSeconds ?? 0) / Math.max(0.01, r.recordedMinutes ?? 0), 2),
  finishPerMinute: round((r.finishSecondsMean ?? 0) / Math.max(0.01, (r.recordedMinutes ?? 0) / r.calls), 2),
}));
const healthy = rec.filter((r) => r.calls !== brokeAt);
const perCallCpu = healthy.length ? mean(healthy.map((r) => ((r.recordersCpu ?? 0) + r.workerCpu - (base.get(r.calls)?.workerCpu ?? 0)) / r.calls)) : 0;
const summary = [
  `Real VP8 (libvpx, 640×360, 30 frames/s, ${Math.round(clips.videoBitrate / 1000)} kbit/s, a keyframe a second) and Opus (${Math.round(clips.audioBitrate / 1000)} kbit/s, 20 ms) from bots, two per 1:1 call, each sending and receiving; ${numWorkers} mediasoup worker(s); ${measureMs / 1000} s measured per step, first without recording (baseline), then recorded (4 FFmpeg recorders per call; ${staggerMs === 0 ? "every call's recording started at once" : `one call's recording started every ${staggerMs} ms, the window measured once all run`}). Loss in the files: video packets (one per frame, stream copies) in the muxed files against the frames a 30 frames/s sender sent over each stream's span (first to last frame), so a frame missing anywhere inside a recording counts; the delay before a stream's first frame is reported apart (\`firstFrameSecondsMax\` in the JSON).`,
  '',
  table(
    [
      'calls',
      'mode',
      'worker CPU (cores)',
      'recorders CPU (cores)',
      'per recorder (mean / max)',
      'disk MB/s',
      'bot loss',
      'SFU+bot socket drops',
      'recorder socket drops',
      'finish s (mean / max)',
      'mux CPU s',
      'frames in files / sent',
      'file frame loss',
    ],
    results.map((r) => [
      r.calls,
      r.mode,
      r.workerCpu,
      r.recordersCpu ?? '',
      r.recorders ? `${r.recorderCpuMean} / ${r.recorderCpuMax}` : '',
      r.diskBytesPerSecond === undefined ? '' : round(r.diskBytesPerSecond / 1e6, 2),
      r.botLossRatio,
      r.sfuAndBotSocketDrops,
      r.recorderSocketDrops ?? '',
      r.finishSecondsMean === undefined ? '' : `${r.finishSecondsMean} / ${r.finishSecondsMax}`,
      r.muxCpuSeconds ?? '',
      r.videoFramesSent ? `${r.videoFramesInFiles} / ${r.videoFramesSent}` : '',
      r.fileFrameLossRatio ?? '',
    ]),
  ),
  '',
  'Per recorded call (recorded step less its baseline):',
  '',
  table(
    [
      'calls',
      'extra worker CPU per call (cores)',
      'recorders per call (cores)',
      'disk MB per call-minute',
      'mux CPU s per recorded minute',
      'finish s per minute of call',
    ],
    perCall.map((p) => [p.calls, p.workerExtra, p.recorders, p.diskMBPerMinute, p.muxCpuPerMinute, p.finishPerMinute]),
  ),
  '',
  brokeAt === undefined
    ? `No step lost frames in its recordings (up to ${steps.at(-1)} calls).`
    : `Recordings lost frames (or the recorders' sockets dropped packets) at **${brokeAt} concurrent recorded calls**: ${brokeBecause}.`,
  healthy.length
    ? `Recording costs about ${round(perCallCpu, 3)} cores per 1:1 call (recorders plus the worker's extra consumers) in the steps without loss: about ${Math.floor(1 / Math.max(perCallCpu, 1e-6))} recorded calls per core on this machine's cores for the recording alone.`
    : '',
].join('\n');
writeResults(run, {
  raw: { steps: results, perCall, brokeAt: brokeAt ?? null, clip: { videoBitrate: clips.videoBitrate, audioBitrate: clips.audioBitrate, fps: CLIP_FPS } },
  summary,
  plots: {
    cpu: lineChart({
      title: 'CPU vs concurrent 1:1 calls',
      xLabel: 'concurrent 1:1 calls',
      yLabel: 'cores',
      series: [
        { name: 'workers, baseline', points: results.filter((r) => r.mode === 'baseline').map((r) => [r.calls, r.workerCpu]), dashed: true },
        { name: 'workers, recorded', points: rec.map((r) => [r.calls, r.workerCpu]) },
        { name: 'recorders (FFmpeg)', points: rec.map((r) => [r.calls, r.recordersCpu ?? 0]) },
      ],
    }),
    loss: lineChart({
      title: 'Frames missing from the recordings',
      xLabel: 'concurrent 1:1 calls',
      yLabel: 'share of frames sent',
      series: [
        { name: 'file frame loss', points: rec.map((r) => [r.calls, r.fileFrameLossRatio ?? 0]) },
        { name: 'bot loss (recorded)', points: rec.map((r) => [r.calls, r.botLossRatio]) },
        { name: 'bot loss (baseline)', points: results.filter((r) => r.mode === 'baseline').map((r) => [r.calls, r.botLossRatio]), dashed: true },
      ],
    }),
  },
});
