import type { ClientTrackStatsSample } from '../protocol/media-events.js';
import type { LocalTrack } from '../track/LocalTrack.js';
import type { RemoteTrack } from '../track/RemoteTrack.js';
import { readStats, type StatsSnapshot } from './rtc-stats.js';
import type { Room } from '../room/Room.js';
import { SampleUploader } from './SampleUploader.js';

/** One track's client-side sample, as `POST /api/calls/:id/quality` takes it. */
export type ClientQualitySample = Omit<ClientTrackStatsSample, 'callId'>;

export interface QualityReporterOptions {
  /**
   * Delivers a batch (at most `maxBatch` samples) to the API, e.g.
   * `(samples) => client.sendQualitySamples(callId, samples)` with a signed-in `TelemedClient`.
   * A rejection keeps the batch for a retry.
   */
  send: (samples: ClientQualitySample[]) => Promise<unknown>;
  /** How often every published and received track is sampled, ms. Default 5000. */
  intervalMs?: number;
  /** Most samples buffered while the API is unreachable (the oldest are dropped). Default 1000. */
  maxBufferedSamples?: number;
  /** Most samples per request (the API takes up to 200). Default 200. */
  maxBatch?: number;
  /** Retry backoff after a failed send, ms: first delay (default 1000) and cap (default 30000). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * One sample from a track's stats; `previous` bytes and time give the bitrate. A track seen for
 * the first time only records its baseline (no sample): a bitrate needs an interval, and a made-up
 * 0 would read as a stall in the charts.
 */
function sampleTrack(
  track: LocalTrack | RemoteTrack,
  trackId: string,
  stats: StatsSnapshot,
  previous: Map<string, { bytes: number; at: number }>,
): ClientQualitySample | undefined {
  const { rtp, direction } = stats;
  if (rtp.length === 0) return undefined;
  const bytes = rtp.reduce((sum, s) => sum + (s.bytes ?? 0), 0);
  const now = performance.now();
  const before = previous.get(trackId);
  previous.set(trackId, { bytes, at: now });
  if (!before || now <= before.at) return undefined;
  const bitrateBps = Math.max(0, ((bytes - before.bytes) * 8000) / (now - before.at));
  // For what we send, loss, jitter and RTT come back in the receiver's reports (remote-inbound-rtp).
  const remote = stats.remoteInbound;
  const main = rtp.reduce((best, s) => ((s.frameWidth ?? 0) > (best.frameWidth ?? 0) ? s : best), rtp[0]!);
  const jitterSeconds = direction === 'in' ? main.jitter : remote.length ? Math.max(...remote.map((r) => r.jitter ?? 0)) : null;
  const rttSeconds = remote.length ? Math.max(...remote.map((r) => r.roundTripTime ?? 0)) : stats.candidatePairRtt;
  const emitted = main.jitterBufferEmittedCount;
  return {
    trackId,
    direction,
    kind: track.kind,
    source: track.source,
    sampledAt: new Date().toISOString(),
    bitrateBps: Math.round(bitrateBps),
    packetsLost: Math.max(0, direction === 'in' ? (main.packetsLost ?? 0) : remote.reduce((sum, r) => sum + (r.packetsLost ?? 0), 0)),
    jitterMs: jitterSeconds === null ? null : jitterSeconds * 1000,
    rttMs: rttSeconds === null ? null : rttSeconds * 1000,
    framesPerSecond: main.framesPerSecond,
    frameWidth: main.frameWidth,
    frameHeight: main.frameHeight,
    jitterBufferDelayMs: emitted ? ((main.jitterBufferDelay ?? 0) / emitted) * 1000 : null,
  };
}

/**
 * Reports a room's client-side quality to the API: every `intervalMs` while the room is connected,
 * each published track (`out`, by producer id) and each received track (`in`, by consumer id) is
 * sampled from its stats snapshot (rtc-stats.ts) and queued; batches are sent in the background,
 * one request at a time, retried with backoff from a bounded buffer. Nothing here ever waits on
 * the network in the media path: sampling reads stats and queues, sending happens on its own.
 */
export class QualityReporter {
  readonly #room: Room;
  readonly #uploader: SampleUploader<ClientQualitySample>;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #previous = new Map<string, { bytes: number; at: number }>();
  #sampling = false;

  constructor(room: Room, options: QualityReporterOptions) {
    this.#room = room;
    this.#uploader = new SampleUploader({
      send: options.send,
      maxBuffered: options.maxBufferedSamples ?? 1000,
      maxBatch: options.maxBatch ?? 200,
      retryBaseMs: options.retryBaseMs ?? 1000,
      retryMaxMs: options.retryMaxMs ?? 30_000,
    });
    this.#timer = setInterval(() => void this.sample(), options.intervalMs ?? 5000);
    room.on('disconnected', this.#onDisconnected);
  }

  readonly #onDisconnected = (): void => this.close();

  /** Samples delivered, dropped because the buffer was full, and failed send attempts so far. */
  get counts(): { readonly sent: number; readonly dropped: number; readonly failedAttempts: number; readonly pending: number } {
    return { ...this.#uploader.counts, pending: this.#uploader.pending };
  }

  /** Samples every track now and queues the samples (the interval calls it; exposed for tests and "report now"). */
  async sample(): Promise<void> {
    if (this.#sampling || this.#room.state !== 'connected') return;
    this.#sampling = true;
    try {
      const jobs: Promise<ClientQualitySample | undefined>[] = [];
      const live = new Set<string>();
      for (const track of this.#room.localParticipant.tracks) {
        const id = track.sid;
        if (!id) continue;
        live.add(id);
        jobs.push(readStats(track, 'out').then((stats) => (stats ? sampleTrack(track, id, stats, this.#previous) : undefined)));
      }
      for (const participant of this.#room.remoteParticipants.values()) {
        for (const track of participant.tracks) {
          live.add(track.consumerId);
          jobs.push(readStats(track, 'in').then((stats) => (stats ? sampleTrack(track, track.consumerId, stats, this.#previous) : undefined)));
        }
      }
      const samples = (await Promise.all(jobs.map((j) => j.catch(() => undefined)))).filter((s): s is ClientQualitySample => s !== undefined);
      for (const id of this.#previous.keys()) if (!live.has(id)) this.#previous.delete(id);
      this.#uploader.push(samples);
    } finally {
      this.#sampling = false;
    }
  }

  /** Stops sampling and sending; samples not yet delivered are given up. Idempotent. */
  close(): void {
    clearInterval(this.#timer);
    this.#room.off('disconnected', this.#onDisconnected);
    this.#uploader.close();
  }
}
