import type { types } from 'mediasoup';
import type { Logger } from './logger.js';
import { MediaServerError } from './errors.js';

/** A router of the room and the worker (index, WebRtcServer) it lives on. */
export interface RoomRouter {
  workerIndex: number;
  router: types.Router;
  webRtcServer: types.WebRtcServer;
}

export interface RoomRoutersOptions {
  /** The room's first router; its capabilities are the room's. */
  primary: RoomRouter;
  /** Consumers one router (worker) serves before new participants go to another router. */
  consumerBudget: number;
  /** A new router for this room on a worker it does not use yet; undefined when there is none. */
  allocateRouter?: (usedWorkers: ReadonlySet<number>) => Promise<RoomRouter | undefined>;
  /** Whether the room has closed meanwhile: a router added then is closed again. */
  isClosed: () => boolean;
  /** A worker under one of the routers died. */
  onWorkerClose: () => void;
  logger: Logger;
}

/**
 * The routers one room spans inside this media server, one per worker, and the pipeToRouter links
 * that make a producer on one available on another. (Links to other media nodes are cluster/RoomLink's.)
 */
export class RoomRouters {
  readonly primary: RoomRouter;
  readonly #routers = new Map<number, RoomRouter>();
  /** `${id}>${workerIndex}` → the pipe of a (data) producer into another router of the room. */
  readonly #pipes = new Map<string, Promise<void>>();
  readonly #options: RoomRoutersOptions;
  #allocating: Promise<RoomRouter | undefined> | undefined;

  constructor(options: RoomRoutersOptions) {
    this.#options = options;
    this.primary = options.primary;
    this.#routers.set(options.primary.workerIndex, options.primary);
    options.primary.router.on('workerclose', options.onWorkerClose);
  }

  /** Every router, by worker index. */
  get all(): ReadonlyMap<number, RoomRouter> {
    return this.#routers;
  }

  /** The router on worker `workerIndex`, or the first one when the room has none there. */
  on(workerIndex: number | undefined): RoomRouter {
    return (workerIndex === undefined ? undefined : this.#routers.get(workerIndex)) ?? this.primary;
  }

  /**
   * The router a new participant uses, given the consumers per worker: the least-loaded one while
   * under the consumer budget, else a new router on another worker.
   */
  async choose(consumersPerWorker: ReadonlyMap<number, number>): Promise<RoomRouter> {
    const load = (entry: RoomRouter): number => consumersPerWorker.get(entry.workerIndex) ?? 0;
    let best = this.primary;
    for (const entry of this.#routers.values()) if (load(entry) < load(best)) best = entry;
    const { allocateRouter, consumerBudget, isClosed, logger, onWorkerClose } = this.#options;
    if (load(best) < consumerBudget || !allocateRouter) return best;
    this.#allocating ??= allocateRouter(new Set(this.#routers.keys())).finally(() => (this.#allocating = undefined));
    const added = await this.#allocating;
    if (!added || isClosed()) {
      if (added && isClosed()) added.router.close();
      return best;
    }
    if (!this.#routers.has(added.workerIndex)) {
      this.#routers.set(added.workerIndex, added);
      added.router.on('workerclose', onWorkerClose);
      logger.info({ workerIndex: added.workerIndex, routers: this.#routers.size }, 'room outgrew its consumer budget: added a router on another worker');
    }
    return this.#routers.get(added.workerIndex) ?? best;
  }

  /** Makes producer (or data producer) `id`, living on worker `from` (the first router's if unknown), available on worker `to`. */
  pipe(kind: 'producer' | 'dataProducer', id: string, from: number | undefined, to: number): Promise<void> {
    const source = from ?? this.primary.workerIndex;
    if (source === to) return Promise.resolve();
    const key = `${id}>${to}`;
    let pending = this.#pipes.get(key);
    if (!pending) {
      const sourceRouter = this.#routers.get(source)?.router;
      const target = this.#routers.get(to)?.router;
      if (!sourceRouter || !target) return Promise.reject(new MediaServerError('INTERNAL', 'router of the room is gone'));
      pending = sourceRouter
        .pipeToRouter(kind === 'producer' ? { producerId: id, router: target } : { dataProducerId: id, router: target })
        .then(() => undefined);
      this.#pipes.set(key, pending);
      pending.catch(() => this.#pipes.delete(key));
    }
    return pending;
  }

  /** The worker index of a transport's router (transports made elsewhere, e.g. load-test ones, are on the first). */
  workerOf(transport: types.Transport): number {
    const index = (transport.appData as { workerIndex?: unknown }).workerIndex;
    return typeof index === 'number' ? index : this.primary.workerIndex;
  }

  close(): void {
    for (const { router } of this.#routers.values()) router.close();
  }
}
