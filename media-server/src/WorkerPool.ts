import { SafeEmitter } from './SafeEmitter.js';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from './logger.js';

export interface WorkerPoolOptions {
  numWorkers: number;
  listenIp: string;
  announcedIp?: string;
  /** Worker i listens on basePort + i (UDP and TCP). */
  basePort: number;
  workerBin?: string;
  logger: Logger;
}

/** One mediasoup worker with the WebRtcServer every transport on it shares. */
export interface PooledWorker {
  index: number;
  worker: types.Worker;
  webRtcServer: types.WebRtcServer;
  /** Routers currently on this worker; the placement load measure. */
  routers: number;
}

export type WorkerPoolEvents = {
  /** A worker died; its routers (and so its rooms) are gone. A replacement is being started. */
  workerDied: [PooledWorker, Error];
  /** A dead worker's replacement is up (same index and port). */
  workerReplaced: [PooledWorker];
};

/** One mediasoup worker per core, each with a WebRtcServer on its own UDP/TCP port. */
export class WorkerPool extends SafeEmitter<WorkerPoolEvents> {
  readonly #options: WorkerPoolOptions;
  readonly #workers: PooledWorker[] = [];
  #closed = false;

  private constructor(options: WorkerPoolOptions) {
    super((event, error) => options.logger.error({ err: error, event }, 'a worker pool listener threw'));
    this.#options = options;
  }

  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    if (options.workerBin) process.env.MEDIASOUP_WORKER_BIN = options.workerBin;
    const pool = new WorkerPool(options);
    try {
      for (let index = 0; index < options.numWorkers; index++) {
        pool.#workers.push(await pool.#startWorker(index));
      }
    } catch (error) {
      pool.close();
      throw error;
    }
    return pool;
  }

  get workers(): readonly PooledWorker[] {
    return this.#workers;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The worker hosting the fewest routers. */
  leastLoaded(): PooledWorker {
    const alive = this.#workers.filter((w) => !w.worker.closed);
    if (alive.length === 0) throw new Error('no mediasoup worker is alive');
    return alive.reduce((best, w) => (w.routers < best.routers ? w : best));
  }

  async #startWorker(index: number): Promise<PooledWorker> {
    const { logger, listenIp, announcedIp, basePort } = this.#options;
    const worker = await mediasoup.createWorker({
      logLevel: 'warn',
      logTags: ['ice', 'dtls', 'rtp', 'srtp', 'rtcp'],
      appData: { index },
    });
    const port = basePort + index;
    const webRtcServer = await worker.createWebRtcServer({
      listenInfos: [
        { protocol: 'udp', ip: listenIp, ...(announcedIp ? { announcedIp } : {}), port },
        { protocol: 'tcp', ip: listenIp, ...(announcedIp ? { announcedIp } : {}), port },
      ],
    });
    const pooled: PooledWorker = { index, worker, webRtcServer, routers: 0 };
    worker.on('died', (error) => {
      logger.error({ workerIndex: index, pid: worker.pid, err: error }, 'mediasoup worker died');
      this.safeEmit('workerDied', pooled, error);
      void this.#replace(index);
    });
    logger.info({ workerIndex: index, pid: worker.pid, port }, 'mediasoup worker started');
    return pooled;
  }

  /** Starts a new worker in a dead one's slot at once; retried with backoff while it fails. */
  async #replace(index: number, attempt = 0): Promise<void> {
    if (this.#closed) return;
    try {
      const replacement = await this.#startWorker(index);
      if (this.#closed) {
        replacement.worker.close();
        return;
      }
      this.#workers[index] = replacement;
      this.#options.logger.info({ workerIndex: index, pid: replacement.worker.pid }, 'mediasoup worker replaced');
      this.safeEmit('workerReplaced', replacement);
    } catch (error) {
      const delay = Math.min(10_000, 250 * 2 ** attempt);
      this.#options.logger.error({ err: error, workerIndex: index, retryInMs: delay }, 'could not replace a dead mediasoup worker');
      setTimeout(() => void this.#replace(index, attempt + 1), delay).unref();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { worker } of this.#workers) worker.close();
  }
}
