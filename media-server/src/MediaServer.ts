import { parseConfig, type MediaServerConfig, type MediaServerOptions } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { RoomManager } from './RoomManager.js';
import { NodeLinks } from './cluster/NodeLinks.js';
import { NodeRegistry } from './cluster/NodeRegistry.js';
import { MediaEventReporter } from './events/MediaEventReporter.js';
import { reportRoomEvents } from './events/MediaEventWiring.js';
import { MediaMetrics } from './metrics/MediaMetrics.js';
import { SignalingServer } from './signaling/SignalingServer.js';
import { Recordings } from './recording/Recordings.js';
import { StatsSampler } from './StatsSampler.js';
import { WorkerPool } from './WorkerPool.js';

/** The media server process: worker pool, rooms and the signaling front, started and stopped together. */
export class MediaServer {
  readonly config: MediaServerConfig;
  readonly logger: Logger;
  #pool: WorkerPool | undefined;
  #rooms: RoomManager | undefined;
  #signaling: SignalingServer | undefined;
  #reporter: MediaEventReporter | undefined;
  #sampler: StatsSampler | undefined;
  #recordings: Recordings | undefined;
  #registry: NodeRegistry | undefined;
  #links: NodeLinks | undefined;
  #port: number | undefined;

  constructor(options: MediaServerOptions, logger?: Logger) {
    this.config = parseConfig(options);
    this.logger = logger ?? createLogger(this.config.logLevel);
  }

  /** Call recording, when enabled (tests reach the recorder processes through it). */
  get recordings(): Recordings | undefined {
    return this.#recordings;
  }

  get port(): number {
    if (this.#port === undefined) throw new Error('media server not started');
    return this.#port;
  }

  async start(): Promise<void> {
    const { config, logger } = this;
    this.#pool = await WorkerPool.create({
      numWorkers: config.numWorkers,
      listenIp: config.rtcListenIp,
      ...(config.rtcAnnouncedIp ? { announcedIp: config.rtcAnnouncedIp } : {}),
      basePort: config.rtcBasePort,
      ...(config.workerBin ? { workerBin: config.workerBin } : {}),
      logger: logger.child({ component: 'WorkerPool' }),
    });
    this.#rooms = new RoomManager({
      pool: this.#pool,
      maxParticipantsPerRoom: config.maxParticipantsPerRoom,
      emptyRoomGraceMs: config.emptyRoomGraceMs,
      maxRoomDurationMs: config.maxCallDurationSec * 1000,
      callEndWarningsSec: config.callEndWarningsSec,
      consumerBudgetPerWorker: config.consumersPerWorker,
      logger: logger.child({ component: 'RoomManager' }),
    });
    if (config.apiInternalUrl && config.webhookSecret) {
      this.#reporter = new MediaEventReporter({
        url: config.apiInternalUrl,
        secret: config.webhookSecret,
        node: config.nodeId,
        maxBuffered: config.eventQueueMax,
        logger: logger.child({ component: 'MediaEventReporter' }),
      });
      reportRoomEvents(this.#rooms, this.#reporter);
    } else {
      logger.info('media events disabled (set API_INTERNAL_URL and MEDIA_WEBHOOK_SECRET to enable)');
    }
    if (config.enableRecording) {
      if (!config.apiInternalUrl || !config.webhookSecret) throw new Error('ENABLE_CALL_RECORDING needs API_INTERNAL_URL and MEDIA_WEBHOOK_SECRET');
      this.#recordings = new Recordings({
        rooms: this.#rooms,
        dir: config.recordingDir,
        ffmpegPath: config.ffmpegPath,
        ffprobePath: config.ffprobePath,
        secret: config.webhookSecret,
        apiUrl: config.apiInternalUrl,
        logger: logger.child({ component: 'Recordings' }),
      });
    }
    const metrics = new MediaMetrics({
      pool: this.#pool,
      rooms: this.#rooms,
      reporter: this.#reporter,
      sessionCount: () => this.#signaling?.sessionCount ?? 0,
    });
    this.#sampler = new StatsSampler({
      rooms: this.#rooms,
      intervalMs: config.statsIntervalMs,
      ...(this.#reporter ? { reporter: this.#reporter } : {}),
      observe: (roomId, sample) => metrics.observeRoomSample(roomId, sample),
      logger: logger.child({ component: 'StatsSampler' }),
    });
    this.#signaling = new SignalingServer({
      host: config.host,
      port: config.port,
      roomTokenSecret: config.roomTokenSecret,
      ...(config.serviceSecret ? { serviceSecret: config.serviceSecret } : {}),
      rooms: this.#rooms,
      pool: this.#pool,
      sampler: this.#sampler,
      resumeGraceMs: config.resumeGraceMs,
      observer: metrics,
      metrics: { registry: metrics.registry, token: config.metricsToken },
      ...(this.#recordings ? { recording: this.#recordings } : {}),
      roomLinks: (roomId) => Promise.all((this.#links?.linksOf(roomId) ?? []).map((link) => link.stats())),
      logger: logger.child({ component: 'SignalingServer' }),
    });
    this.#port = await this.#signaling.listen();
    logger.info({ host: config.host, port: this.#port, workers: config.numWorkers }, 'media server listening');
    if (config.redisUrl) {
      const origin = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${this.#port}`;
      this.#registry = new NodeRegistry({
        redisUrl: config.redisUrl,
        keyPrefix: config.redisKeyPrefix,
        node: {
          id: config.nodeId,
          url: config.publicUrl ?? `ws://${origin}/rtc`,
          internalUrl: config.internalUrl ?? `http://${origin}`,
          announcedAddress: config.rtcAnnouncedIp ?? config.rtcListenIp,
          region: config.region,
          capacity: { consumers: config.nodeCapacity ?? config.numWorkers * config.consumersPerWorker },
        },
        rooms: this.#rooms,
        pool: this.#pool,
        sessionCount: () => this.#signaling?.sessionCount ?? 0,
        logger: logger.child({ component: 'NodeRegistry' }),
      });
      await this.#registry.start();
      this.#links = new NodeLinks({
        redisUrl: config.redisUrl,
        keyPrefix: config.redisKeyPrefix,
        nodeId: config.nodeId,
        rooms: this.#rooms,
        listenIp: config.rtcListenIp,
        announcedIp: config.rtcAnnouncedIp,
        logger: logger.child({ component: 'NodeLinks' }),
      });
      await this.#links.start();
    }
  }

  /**
   * The first half of a graceful stop (SIGTERM): no new rooms from now on; resolves when the last
   * running call has ended or after `timeoutMs` (MEDIA_DRAIN_TIMEOUT), with the rooms still open.
   */
  async drain(timeoutMs = this.config.drainTimeoutSec * 1000): Promise<{ openRooms: number }> {
    const rooms = this.#rooms;
    if (!rooms) return { openRooms: 0 };
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([rooms.drain(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    return { openRooms: rooms.rooms.size };
  }

  async stop(): Promise<void> {
    await this.#registry?.close();
    await this.#signaling?.close();
    this.#sampler?.close();
    this.#rooms?.close();
    await this.#links?.close();
    await this.#recordings?.close();
    // Give the final room/participant events a moment to reach the API; never wait long.
    if (this.#reporter) await Promise.race([this.#reporter.idle(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    this.#reporter?.close();
    this.#pool?.close();
  }
}
