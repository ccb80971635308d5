import { parseConfig, type MediaServerConfig, type MediaServerOptions } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { RoomManager } from './RoomManager.js';
import { SignalingServer } from './signaling/SignalingServer.js';
import { WorkerPool } from './WorkerPool.js';

/** The media server process: worker pool, rooms and the signaling front, started and stopped together. */
export class MediaServer {
  readonly config: MediaServerConfig;
  readonly logger: Logger;
  #pool: WorkerPool | undefined;
  #rooms: RoomManager | undefined;
  #signaling: SignalingServer | undefined;
  #port: number | undefined;

  constructor(options: MediaServerOptions, logger?: Logger) {
    this.config = parseConfig(options);
    this.logger = logger ?? createLogger(this.config.logLevel);
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
      emptyRoomGraceMs: 10_000,
      logger: logger.child({ component: 'RoomManager' }),
    });
    this.#signaling = new SignalingServer({
      host: config.host,
      port: config.port,
      roomTokenSecret: config.roomTokenSecret,
      ...(config.serviceSecret ? { serviceSecret: config.serviceSecret } : {}),
      rooms: this.#rooms,
      pool: this.#pool,
      logger: logger.child({ component: 'SignalingServer' }),
    });
    this.#port = await this.#signaling.listen();
    logger.info({ host: config.host, port: this.#port, workers: config.numWorkers }, 'media server listening');
  }

  async stop(): Promise<void> {
    await this.#signaling?.close();
    this.#rooms?.close();
    this.#pool?.close();
  }
}
