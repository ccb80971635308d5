import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { SafeEmitter } from '../SafeEmitter.js';
import path from 'node:path';
import type { types } from 'mediasoup';
import type { Logger } from '../logger.js';
import { freeUdpPortPair, releaseUdpPorts, waitForUdpListener } from './udp-ports.js';
import { sdpFor } from './sdp.js';
import { spawnTied } from './tied-process.js';

export interface TrackRecorderOptions {
  router: types.Router;
  producer: types.Producer;
  identity: string;
  /** Folder of the recording; segment files are `${kind}-${trackId}.${n}.mkv`. */
  dir: string;
  /** When the recording began (ms since 1970): segment offsets are relative to it. */
  recordingStartedAt: number;
  ffmpegPath: string;
  logger: Logger;
  /** A recorder that dies is restarted after this delay, ms (doubled per death in a row, at most 5 s). */
  restartDelayMs?: number;
  /** How long a recorder process may take to listen on its port, ms. */
  readyTimeoutMs?: number;
}

/** One file of a track: what a recorder process wrote between its start and its end. */
export interface TrackSegment {
  file: string;
  /**
   * When the consumer sent the process its first packet (the file's time 0), ms after the recording
   * began; until a packet is sent, when the process began listening.
   */
  offsetMs: number;
  endMs: number | undefined;
  /** The last lines the process wrote to stderr (warnings and errors), for the log when the segment is unusable. */
  stderr?: string;
}

export type TrackRecorderEvents = {
  /** The recorder process died; a new one (and segment) follows after `restartDelayMs`. */
  recorderDied: [{ atMs: number; code: number | null; signal: NodeJS.Signals | null }];
  /**
   * A span the track was not recorded: from a process's death to the moment a restarted one
   * listens (however many attempts that took), or to the close when none did.
   */
  gap: [{ fromMs: number; toMs: number }];
};

/**
 * Records one producer without transcoding: a PlainTransport consumer (started paused) sends RTP to
 * an FFmpeg process that copies it into Matroska (progressively written, readable after a crash).
 * The consumer is resumed, with a keyframe request, only once FFmpeg listens, so the file starts
 * with a keyframe. A process that dies is replaced by a new one writing a new segment.
 */
export class TrackRecorder extends SafeEmitter<TrackRecorderEvents> {
  readonly trackId: string;
  readonly identity: string;
  readonly kind: types.MediaKind;
  readonly segments: TrackSegment[] = [];
  readonly #options: TrackRecorderOptions;
  #transport: types.PlainTransport | undefined;
  #consumer: types.Consumer | undefined;
  #process: ChildProcess | undefined;
  /** The process whose segment is open and timed: only then may the consumer send (see resume()). */
  #recordingProcess: ChildProcess | undefined;
  #ports: { rtp: number; rtcp: number } | undefined;
  #connected = false;
  #paused = false;
  #closed = false;
  /** When `close()` stopped the media: the live segment ends there, not when FFmpeg is done writing. */
  #closedAtMs: number | undefined;
  #deaths = 0;
  /** Since when no process records (ms after the recording began); undefined while one does. */
  #downSinceMs: number | undefined;
  /** A process died without ever binding the transport's ports: someone else holds them. */
  #portsLost = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #stopTiming: (() => void) | undefined;
  restarts = 0;

  constructor(options: TrackRecorderOptions) {
    super((event, error) => options.logger.error({ err: error, event }, 'a recorder listener threw'));
    this.#options = options;
    this.trackId = options.producer.id;
    this.identity = options.identity;
    this.kind = options.producer.kind;
  }

  /** The codec as sent (e.g. `VP8`, `opus`), known once started. */
  get codec(): string {
    return this.#consumer?.rtpParameters.codecs[0]?.mimeType.split('/')[1] ?? 'unknown';
  }

  /** The recorder process's pid (tests kill it to check the restart). */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  #now(): number {
    return Date.now() - this.#options.recordingStartedAt;
  }

  /**
   * Opens the track's transport and starts its recorder process. Resolves once the process listens,
   * or once it has failed to and a restart is scheduled; rejects only when the transport cannot be
   * opened.
   */
  async start(): Promise<void> {
    await this.#openTransport();
    await this.#spawn();
  }

  async #openTransport(): Promise<void> {
    const { router, producer } = this.#options;
    const transport = await router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: false, comedia: false });
    this.#transport = transport;
    // Without RTX: FFmpeg reads one RTP stream per port and would take retransmissions (another
    // SSRC and sequence space) for hundreds of missing packets.
    const rtpCapabilities = { ...router.rtpCapabilities, codecs: (router.rtpCapabilities.codecs ?? []).filter((c) => !/\/rtx$/i.test(c.mimeType)) };
    const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities, paused: true });
    this.#consumer = consumer;
    if (consumer.type === 'simulcast' || consumer.type === 'svc') await consumer.setPreferredLayers({ spatialLayer: 10, temporalLayer: 10 });
    consumer.on('producerclose', () => void this.close());
  }

  /**
   * A new transport (and consumer) on new ports, for when the old ports were taken by another
   * process: a PlainTransport connects once, so its destination cannot change.
   */
  async #replaceTransport(): Promise<void> {
    this.#stopTiming?.();
    this.#transport?.close();
    if (this.#ports) releaseUdpPorts(this.#ports);
    this.#ports = undefined;
    this.#connected = false;
    this.#portsLost = false;
    await this.#openTransport();
  }

  async #spawn(): Promise<void> {
    const consumer = this.#consumer;
    const transport = this.#transport;
    if (!consumer || !transport || this.#closed) return;
    // A transport connects once: a restarted process listens on the same ports. Until it has
    // connected, a process that never listened (say its port was taken) gets a new pair.
    this.#ports ??= await freeUdpPortPair();
    const { rtp: rtpPort, rtcp: rtcpPort } = this.#ports;
    const file = path.join(this.#options.dir, `${this.kind}-${this.trackId}.${this.segments.length}.mkv`);
    const args = [
      '-hide_banner',
      '-loglevel',
      'warning',
      '-nostats',
      // Probing for at most 1 s (not FFmpeg's default 5 s) before the file's header is written:
      // a process that dies sooner leaves nothing, which is then counted as a gap.
      '-protocol_whitelist',
      'pipe,udp,rtp',
      '-fflags',
      '+genpts',
      '-reorder_queue_size',
      '256',
      '-analyzeduration',
      '1000000',
      // No packets while the recording is paused: FFmpeg must not take that for the end (its default is 10 s).
      '-listen_timeout',
      String(7 * 86_400),
      '-f',
      'sdp',
      '-i',
      'pipe:0',
      // Not -copyts: with it, a segment paused and resumed (a late joiner's consent) came out with
      // repeated timestamps and its picture ~200 ms late against the audio (fresh-clone run, 5 Dec).
      '-map',
      '0',
      '-c',
      'copy',
      // Small clusters flushed as they are written: a crash loses at most the last second.
      '-flush_packets',
      '1',
      '-cluster_time_limit',
      '1000',
      '-f',
      'matroska',
      '-y',
      file,
    ];
    // Tied to the media server: a server killed with SIGKILL leaves no recorder behind.
    const child = spawnTied(this.#options.ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.#process = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.stdin?.end(sdpFor(consumer.rtpParameters, rtpPort, rtcpPort));
    const startedAtMs = this.#now();
    let listening = false;
    child.once('exit', (code, signal) => {
      const segment = this.segments.find((s) => s.file === file);
      if (segment) {
        segment.endMs = this.#closedAtMs ?? this.#now();
        segment.stderr = stderr.trim().slice(-500);
      }
      if (this.#process === child) this.#process = undefined;
      if (this.#recordingProcess === child) this.#recordingProcess = undefined;
      if (!this.#connected && this.#ports) {
        releaseUdpPorts(this.#ports);
        this.#ports = undefined;
      }
      if (this.#closed) return;
      if (!listening && this.#connected) this.#portsLost = true;
      const atMs = this.#now();
      this.#downSinceMs ??= atMs;
      this.#options.logger.warn(
        { trackId: this.trackId, code, signal, listened: listening, stderr: stderr.trim().slice(-500) },
        'recorder process died: restarting it',
      );
      this.safeEmit('recorderDied', { atMs, code, signal });
      void consumer.pause().catch(() => undefined);
      const delay = Math.min(5000, (this.#options.restartDelayMs ?? 200) * 2 ** this.#deaths++);
      this.#restartTimer = setTimeout(() => {
        this.restarts++;
        void (this.#portsLost ? this.#replaceTransport() : Promise.resolve())
          .then(() => this.#spawn())
          .catch((error: unknown) => this.#options.logger.error({ err: error, trackId: this.trackId }, 'could not restart a recorder'));
      }, delay);
    });
    child.on('error', (error) => this.#options.logger.error({ err: error, trackId: this.trackId }, 'recorder process error'));
    try {
      await waitForUdpListener(rtpPort, child, this.#options.readyTimeoutMs ?? 30_000);
    } catch (error) {
      // The exit handler restarts it: a process that has exited already, or one ended here.
      this.#options.logger.warn({ err: error, trackId: this.trackId }, 'a recorder process did not listen');
      child.kill('SIGKILL');
      return;
    }
    listening = true;
    if (this.#closed || this.#process !== child) return;
    if (this.#downSinceMs !== undefined) {
      this.safeEmit('gap', { fromMs: this.#downSinceMs, toMs: this.#now() });
      this.#downSinceMs = undefined;
    }
    if (!this.#connected) {
      await transport.connect({ ip: '127.0.0.1', port: rtpPort, rtcpPort });
      this.#connected = true;
      // Died while the transport connected: it wrote nothing, and its exit has scheduled the next one.
      if (this.#closed || this.#process !== child) return;
    }
    const segment: TrackSegment = { file, offsetMs: this.#now(), endMs: undefined };
    this.segments.push(segment);
    await this.#timeFirstPacket(consumer, segment);
    if (this.#process !== child) return;
    this.#recordingProcess = child;
    this.#options.logger.debug({ trackId: this.trackId, segment: this.segments.length - 1, startMs: startedAtMs }, 'recorder listening');
    if (!this.#paused) await this.#resume();
    // A process that lived a while counts as healthy again: the next death restarts it quickly.
    setTimeout(() => {
      if (this.#process === child) this.#deaths = 0;
    }, 10_000).unref();
  }

  /**
   * Sets the segment's offset to the moment the worker sent the process its first packet. Not the
   * moment the process began listening: a video consumer sends nothing after a resume until the
   * keyframe it asked for (often 100 ms or more later), and a segment may start paused for minutes;
   * placed at its listening time, its picture would come early by that much against the audio.
   */
  async #timeFirstPacket(consumer: types.Consumer, segment: TrackSegment): Promise<void> {
    this.#stopTiming?.();
    const stop = (): void => {
      consumer.off('trace', onTrace);
      if (this.#stopTiming === stop) this.#stopTiming = undefined;
      if (!consumer.closed) void consumer.enableTraceEvent([]).catch(() => undefined);
    };
    const onTrace = (trace: types.ConsumerTraceEventData): void => {
      if (trace.type !== 'rtp') return;
      // The worker stamps traces with its monotonic clock (uv_hrtime, as process.hrtime here): the
      // packet left this long ago.
      segment.offsetMs = this.#now() - Math.max(0, monotonicMs() - trace.timestamp);
      stop();
    };
    this.#stopTiming = stop;
    consumer.on('trace', onTrace);
    await consumer.enableTraceEvent(['rtp']);
  }

  async #resume(): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer || consumer.closed) return;
    await consumer.resume();
    if (consumer.kind === 'video') await consumer.requestKeyFrame();
  }

  /** Stops forwarding (someone present has not consented); the process keeps its file open. */
  async pause(): Promise<void> {
    this.#paused = true;
    if (this.#consumer && !this.#consumer.closed) await this.#consumer.pause();
  }

  /**
   * Forwards again, once the process has its segment open and timed; a process still starting (a
   * restart) resumes the consumer itself when it listens. Resumed sooner, the consumer's keyframe
   * went to a port nobody read and the segment began at a later one, or FFmpeg wrote frames sent
   * before the segment's first-packet timing was armed: the segment was placed early or late as a
   * whole (205 ms early to 650 ms late in fresh-clone runs, #17).
   */
  async resume(): Promise<void> {
    this.#paused = false;
    if (this.#recordingProcess && this.#recordingProcess === this.#process) await this.#resume();
  }

  /**
   * Ends the recording of this track: the transport closes, then FFmpeg is told the stream ended
   * (RTCP BYE) and finishes its file. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closedAtMs = this.#now();
    this.#closedAtMs = closedAtMs;
    clearTimeout(this.#restartTimer);
    this.#stopTiming?.();
    this.#transport?.close();
    const child = this.#process;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // SIGINT alone does not end FFmpeg while its RTP input receives nothing (closed transport,
      // paused consumer): it acts on the signal only after its next packet, and a second signal
      // aborts the file's trailer, so SIGKILL used to end it 10 s later with its last cluster (up
      // to a second of media) unwritten. A BYE ends its input as a sender leaving a session does.
      if (this.#ports) await sendRtcpBye(this.#ports.rtcp).catch(() => child.kill('SIGINT'));
      else child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (this.#ports) releaseUdpPorts(this.#ports);
    this.#ports = undefined;
    for (const segment of this.segments) segment.endMs ??= closedAtMs;
    if (this.#downSinceMs !== undefined) this.safeEmit('gap', { fromMs: this.#downSinceMs, toMs: closedAtMs });
    this.#downSinceMs = undefined;
  }
}

/**
 * Sends an RTCP compound packet (an empty receiver report, then a BYE) to a recorder's RTCP port on
 * loopback. FFmpeg's RTP demuxer ends its input on a BYE from every stream (one here), so the
 * process writes the file's trailer and exits.
 */
function sendRtcpBye(port: number): Promise<void> {
  const ssrc = 0x7e1e0001;
  const packet = Buffer.alloc(16);
  packet.writeUInt32BE(0x80c90001, 0); // V=2, RC=0, PT=201 (RR), length 1
  packet.writeUInt32BE(ssrc, 4);
  packet.writeUInt32BE(0x81cb0001, 8); // V=2, SC=1, PT=203 (BYE), length 1
  packet.writeUInt32BE(ssrc, 12);
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.send(packet, port, '127.0.0.1', (error) => {
      socket.close();
      if (error) reject(error);
      else resolve();
    });
  });
}

/** Milliseconds of the monotonic clock mediasoup's worker stamps its trace events with. */
function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}
