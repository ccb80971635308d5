import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MediaEventReporter } from '../events/MediaEventReporter.js';
import type { RoomSample } from '../RoomStats.js';
import type { RoomManager } from '../RoomManager.js';
import type { WorkerPool } from '../WorkerPool.js';

export interface MediaMetricsOptions {
  pool: WorkerPool;
  rooms: RoomManager;
  reporter?: MediaEventReporter | undefined;
  /** Signaling sessions open now (attached or waiting for a resume). */
  sessionCount: () => number;
}

/** What the signaling front reports; MediaMetrics implements it (tests may pass nothing). */
export interface SignalingObserver {
  request(method: string, outcome: string, seconds: number): void;
  sessionResumed(): void;
  sessionExpired(): void;
}

type Direction = 'in' | 'out';

/** Cumulative counts last seen per track, to turn getStats() totals into counter increments. */
interface TrackTotals {
  bytes: number;
  packets: number;
  lost: number;
}

/**
 * The media server's Prometheus metrics (own registry). Gauges are read from the pool and the
 * rooms at scrape time; RTP totals, loss and score come from the stats sampler's periodic samples.
 */
export class MediaMetrics implements SignalingObserver {
  readonly registry = new Registry();
  readonly #signalingRequests: Counter<'method' | 'outcome'>;
  readonly #signalingDuration: Histogram<'method'>;
  readonly #resumed: Counter;
  readonly #expired: Counter;
  readonly #bytes: Counter<'direction' | 'kind'>;
  readonly #packets: Counter<'direction' | 'kind'>;
  readonly #lost: Counter<'direction' | 'kind'>;
  readonly #lossRatio: Histogram<'direction'>;
  readonly #score: Histogram<'direction'>;
  readonly #workerDeaths: Counter<'worker'>;
  /** roomId → trackId → totals at the previous sample. */
  readonly #totals = new Map<string, Map<string, TrackTotals>>();
  /** worker index → [pid, CPU seconds counted so far for that process]. */
  readonly #cpuSeen = new Map<number, [number, number]>();

  constructor(options: MediaMetricsOptions) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const { pool, rooms } = options;

    new Gauge({
      name: 'telemed_media_worker_up',
      help: '1 while the mediasoup worker in this slot runs, 0 after it died (until replaced)',
      labelNames: ['worker'],
      registers,
      collect() {
        for (const w of pool.workers) this.set({ worker: String(w.index) }, w.worker.closed ? 0 : 1);
      },
    });
    const cpuSeen = this.#cpuSeen;
    const cpu = new Counter({
      name: 'telemed_media_worker_cpu_seconds_total',
      help: 'CPU time (user + system) of each mediasoup worker process',
      labelNames: ['worker'],
      registers,
      async collect() {
        await Promise.all(
          pool.workers
            .filter((w) => !w.worker.closed)
            .map(async (w) => {
              const usage = await w.worker.getResourceUsage().catch(() => undefined);
              if (!usage) return;
              const total = (usage.ru_utime + usage.ru_stime) / 1000;
              const [pid, counted] = cpuSeen.get(w.index) ?? [w.worker.pid, 0];
              // A replacement worker starts from zero: count its whole time, as a fresh process.
              const before = pid === w.worker.pid ? counted : 0;
              if (total > before) cpu.inc({ worker: String(w.index) }, total - before);
              cpuSeen.set(w.index, [w.worker.pid, Math.max(before, total)]);
            }),
        );
      },
    });
    this.#workerDeaths = new Counter({
      name: 'telemed_media_worker_deaths_total',
      help: 'mediasoup workers that died (each is replaced at once)',
      labelNames: ['worker'],
      registers,
    });
    for (const w of pool.workers) this.#workerDeaths.inc({ worker: String(w.index) }, 0);
    pool.on('workerDied', (w) => this.#workerDeaths.inc({ worker: String(w.index) }));

    new Gauge({
      name: 'telemed_media_rooms',
      help: 'Open rooms',
      registers,
      collect() {
        this.set(rooms.rooms.size);
      },
    });
    new Gauge({
      name: 'telemed_media_participants',
      help: 'Participants joined to a room',
      registers,
      collect() {
        let joined = 0;
        for (const { room } of rooms.rooms.values()) joined += room.joinedPeers().length;
        this.set(joined);
      },
    });
    const countTracks = (which: 'producers' | 'consumers') =>
      function (this: Gauge<'kind'>): void {
        const counts = { audio: 0, video: 0 };
        for (const { room } of rooms.rooms.values()) {
          for (const peer of room.peers.values()) for (const track of peer[which].values()) counts[track.kind]++;
        }
        for (const [kind, n] of Object.entries(counts)) this.set({ kind }, n);
      };
    new Gauge({
      name: 'telemed_media_producers',
      help: 'Tracks published to the SFU, by kind',
      labelNames: ['kind'],
      registers,
      collect: countTracks('producers'),
    });
    new Gauge({
      name: 'telemed_media_consumers',
      help: 'Tracks forwarded to subscribers, by kind',
      labelNames: ['kind'],
      registers,
      collect: countTracks('consumers'),
    });
    new Gauge({
      name: 'telemed_media_signaling_sessions',
      help: 'Signaling sessions (attached, or waiting for their client to resume)',
      registers,
      collect() {
        this.set(options.sessionCount());
      },
    });

    const rtp = (name: string, help: string): Counter<'direction' | 'kind'> => {
      const counter = new Counter({ name, help, labelNames: ['direction', 'kind'], registers });
      for (const direction of ['in', 'out']) for (const kind of ['audio', 'video']) counter.inc({ direction, kind }, 0);
      return counter;
    };
    this.#bytes = rtp('telemed_media_rtp_bytes_total', 'RTP bytes received from publishers (in) and sent to subscribers (out), as sampled');
    this.#packets = rtp('telemed_media_rtp_packets_total', 'RTP packets received from publishers (in) and sent to subscribers (out), as sampled');
    this.#lost = rtp(
      'telemed_media_rtp_packets_lost_total',
      'RTP packets lost on the way in (publisher to SFU) and out (SFU to subscriber, from receiver reports)',
    );
    this.#lossRatio = new Histogram({
      name: 'telemed_media_track_loss_ratio',
      help: 'Per-track fraction of packets lost in each stats sample',
      labelNames: ['direction'],
      registers,
      buckets: [0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
    });
    this.#score = new Histogram({
      name: 'telemed_media_track_score',
      help: 'Per-track mediasoup score (0-10) in each stats sample',
      labelNames: ['direction'],
      registers,
      buckets: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    });
    rooms.on('roomClosed', (room) => this.#totals.delete(room.id));

    this.#signalingRequests = new Counter({
      name: 'telemed_media_signaling_requests_total',
      help: 'Signaling requests by method and outcome ("ok" or the error code)',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.#signalingDuration = new Histogram({
      name: 'telemed_media_signaling_request_duration_seconds',
      help: 'Signaling request handling time by method',
      labelNames: ['method'],
      registers,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
    this.#resumed = new Counter({
      name: 'telemed_media_sessions_resumed_total',
      help: 'Signaling sessions resumed on a new socket within the grace period',
      registers,
    });
    this.#expired = new Counter({
      name: 'telemed_media_sessions_expired_total',
      help: 'Signaling sessions ended because their client did not come back within the grace period',
      registers,
    });

    new Gauge({
      name: 'telemed_media_event_queue_length',
      help: 'Media events waiting to be delivered to the API',
      registers,
      collect() {
        this.set(options.reporter?.pending ?? 0);
      },
    });
    let droppedSeen = 0;
    const dropped = new Counter({
      name: 'telemed_media_events_dropped_total',
      help: 'Media events dropped because the queue to the API was full',
      registers,
      collect() {
        const now = options.reporter?.dropped ?? 0;
        if (now > droppedSeen) dropped.inc(now - droppedSeen);
        droppedSeen = now;
      },
    });
  }

  request(method: string, outcome: string, seconds: number): void {
    this.#signalingRequests.inc({ method, outcome });
    this.#signalingDuration.observe({ method }, seconds);
  }

  sessionResumed(): void {
    this.#resumed.inc();
  }

  sessionExpired(): void {
    this.#expired.inc();
  }

  /** One stats sample of a room: RTP totals turn into increments, loss and score into histograms. */
  observeRoomSample(roomId: string, { info, samples }: RoomSample): void {
    const previous = this.#totals.get(roomId) ?? new Map<string, TrackTotals>();
    const next = new Map<string, TrackTotals>();
    const count = (id: string, direction: Direction, kind: string, now: TrackTotals): void => {
      const before = previous.get(id) ?? { bytes: 0, packets: 0, lost: 0 };
      const labels = { direction, kind };
      // getStats() totals restart when a track is replaced; never count backwards.
      this.#bytes.inc(labels, Math.max(0, now.bytes - before.bytes));
      this.#packets.inc(labels, Math.max(0, now.packets - before.packets));
      this.#lost.inc(labels, Math.max(0, now.lost - before.lost));
      next.set(id, { bytes: Math.max(now.bytes, before.bytes), packets: Math.max(now.packets, before.packets), lost: Math.max(now.lost, before.lost) });
    };
    for (const p of info.producers) count(p.producerId, 'in', p.kind, { bytes: p.byteCount, packets: p.packetCount, lost: p.packetsLost });
    for (const c of info.consumers) count(c.consumerId, 'out', c.kind, { bytes: c.byteCount, packets: c.packetCount, lost: c.packetsLost });
    this.#totals.set(roomId, next);
    for (const sample of samples) {
      this.#lossRatio.observe({ direction: sample.direction }, sample.lossRatio);
      this.#score.observe({ direction: sample.direction }, sample.score);
    }
  }
}
